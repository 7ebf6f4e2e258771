/**
 * What a socket was authorised as (its grant), shared by both objects.
 *
 * A socket is opened on the strength of something that can end while the
 * socket stays open: an operator's session (sign-out, removal, expiry) or a
 * visitor's token (logout, a login that replaced it, expiry). The socket
 * carries that grant in its attachment and as a tag, so when the right ends
 * every socket opened with it is found by the tag and closed at once, and a
 * frame on a socket whose grant has run out is refused.
 */

/** A socket's grant: the tag every socket opened with it carries, and when it runs out at the latest. */
export interface Grant {
  tag: string;
  until: number;
}

/** The tag of sockets opened with an operator session (by the session's id, the hash of its token). */
export const sessionTag = (sessionId: string): string => `session:${sessionId}`;

/** The tag of sockets opened with a visitor token of this family (a login and the tokens rotated from it). */
export const familyTag = (family: string): string => `family:${family}`;

/** The close codes a socket ended by its grant gets, with the reason a person reads. */
export const GRANT_ENDED = {
  signedOut: { code: 4001, reason: "Signed out" },
  expired: { code: 4001, reason: "Session expired" },
  removed: { code: 4003, reason: "Operator removed" },
} as const;

export type GrantEnd = keyof typeof GRANT_ENDED;
