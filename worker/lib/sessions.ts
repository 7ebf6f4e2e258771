/** Operator sessions: the cookie that carries one and how long it lasts (the workspace expires it then too). */

/** Name of the panel's session cookie (httpOnly, SameSite=Strict). */
export const SESSION_COOKIE = "mc_session";

/** A session lasts 30 days from sign-in. */
export const SESSION_TTL_MS = 30 * 24 * 3600 * 1000;
