/**
 * Log lines as Workers Logs indexes them: one object per line, `event`
 * naming what happened and the ids it concerns as fields (conversationId,
 * operatorId, from/to of a mail, method/path of a request), so the
 * dashboard can filter by any of them; an error goes as its message and
 * stack. No message text, mail body or secret is ever logged.
 */
type Fields = Record<string, string | number | boolean | null | undefined>;

function line(event: string, fields: Fields, err: unknown): Record<string, unknown> {
  const error =
    err === undefined
      ? {}
      : err instanceof Error
        ? { error: `${err.name}: ${err.message}`, stack: err.stack }
        : { error: String(err) };
  return { event, ...fields, ...error };
}

/** Something went wrong that the code handled (a refusal, a retry). */
export function logWarn(event: string, fields: Fields = {}, err?: unknown): void {
  console.warn(line(event, fields, err));
}

/** Something failed that a person may need to look at. */
export function logError(event: string, fields: Fields = {}, err?: unknown): void {
  console.error(line(event, fields, err));
}
