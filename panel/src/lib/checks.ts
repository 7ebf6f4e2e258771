/** Checks the panel makes before sending a form (the server checks again and has the last word). */

/** Mirrors the server's shortest password. */
export const MIN_PASSWORD = 10;

/**
 * What is wrong with a new operator's details (every problem, in one text), or null; `who` names the field ("your
 * name", "a name"); `confirm` is the password typed again, where the form asks for it.
 */
export function checkNewOperator(
  name: string,
  email: string,
  password: string,
  who: string,
  confirm?: string,
): string | null {
  // Every problem at once, so the form is put right in one go rather than one message at a time.
  const problems = [
    !name.trim() && `Please enter ${who}.`,
    !/^[^\s@]+@[^\s@]+$/.test(email.trim()) && "Please enter a valid email address.",
    password.length < MIN_PASSWORD && `The password needs at least ${MIN_PASSWORD} characters.`,
    confirm !== undefined && password !== confirm && "The two passwords do not match.",
  ].filter((p): p is string => typeof p === "string");
  return problems.length > 0 ? problems.join(" ") : null;
}
