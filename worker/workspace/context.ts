/**
 * What every workspace module works over: the object's SQLite storage, its
 * state (sockets, alarm, transactions) and the bindings. The modules are
 * plain classes over this; the Durable Object class in `object.ts` builds
 * them and stays the only object the runtime sees.
 */
import type { Env } from "../env";

/** The storage, state and bindings of the Workspace object, shared by its modules. */
export interface WorkspaceContext {
  readonly sql: SqlStorage;
  readonly ctx: DurableObjectState;
  readonly env: Env;
}
