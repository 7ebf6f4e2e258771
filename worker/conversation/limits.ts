/**
 * What a visitor may do, and how often. Every frame a visitor's widget can
 * send that does work (stores, reads a page, reaches the workspace or the
 * panels) takes from an allowance of the visitor's own, counted per visitor
 * across all of their sockets, not per socket: opening more sockets buys
 * nothing. Each allowance is a token bucket: a burst, then a steady rate.
 * Chat messages are also counted per network (the visitor's IP) across
 * every conversation, with the Worker's rate limiting binding, and a
 * visitor may hold a bounded number of sockets on their conversation.
 *
 * Operators are signed in and answerable for what they do: their frames are
 * not limited here. A visitor's `read` is refused outright (operators only).
 *
 * The counts live in memory (context.ts, `allowances`): an eviction refills
 * them, which only loosens a limit briefly. A storage write per frame just
 * to count would cost more than the frames it limits.
 */
import { networkOf } from "../lib/network";
import type { ClientFrame } from "../protocol";
import type { ConversationContext } from "./context";
import { logError } from "../lib/log";

/** The rule of an allowance: how many at once, and how often one more comes back. */
interface Rule {
  burst: number;
  refillMs: number;
  /** What the visitor is doing too fast, for the refusal ("You're … too fast"). */
  doing: string;
}

/** Every visitor frame that does work, and its allowance. */
const VISITOR_ALLOWANCES = {
  /** Chat messages: 20 at once, then 1 a second. */
  send: { burst: 20, refillMs: 1000, doing: "sending messages" },
  /** A (re)connection's hello (a welcome with a page of messages): 20 at once, then 1 a second. */
  hello: { burst: 20, refillMs: 1000, doing: "reconnecting" },
  /** Older pages of the conversation: 20 at once, then 1 a second. */
  history: { burst: 20, refillMs: 1000, doing: "loading older messages" },
  /** Name and email: 5 at once, then 1 every 10 s. */
  profile: { burst: 5, refillMs: 10_000, doing: "changing your name or email" },
  /** Survey answers and dismissals: 5 at once, then 1 every 10 s. */
  survey: { burst: 5, refillMs: 10_000, doing: "answering the survey" },
} as const satisfies Record<string, Rule>;

type Action = keyof typeof VISITOR_ALLOWANCES;

/** Open sockets a visitor may hold on their conversation (tabs and devices together). */
export const MAX_VISITOR_SOCKETS = 10;

/** When a refused socket may try again (a tab has to close first, so this is a guess). */
export const SOCKET_RETRY_MS = 10_000;

/** When a message refused by the per-network limit may be sent again (the binding counts per minute). */
const NETWORK_RETRY_MS = 10_000;

/** The allowance a visitor frame takes from; null for a frame refused to visitors anyway. */
function actionOf(frame: ClientFrame): Action | null {
  switch (frame.type) {
    case "hello":
    case "send":
    case "history":
    case "profile":
      return frame.type;
    case "rate":
    case "dismissSurvey":
      return "survey";
    case "read":
      return null;
  }
}

/** A refusal for going too fast: what to say, and when to try again. */
export interface TooFast {
  message: string;
  retryAfterMs: number;
}

const wordsFor = (ms: number) => `${Math.ceil(ms / 1000)} s`;

/**
 * Takes one of `action` from visitor `visitorId`'s allowance; null when
 * there was one, else the refusal. Nothing is taken when it is refused.
 */
function take(c: ConversationContext, visitorId: string, action: Action): TooFast | null {
  const rule: Rule = VISITOR_ALLOWANCES[action];
  const key = `${visitorId}:${action}`;
  const now = Date.now();
  const buckets = c.memory.allowances;
  const b = buckets.get(key) ?? { tokens: rule.burst, at: now };
  b.tokens = Math.min(rule.burst, b.tokens + (now - b.at) / rule.refillMs);
  b.at = now;
  buckets.set(key, b);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return null;
  }
  const retryAfterMs = Math.ceil((1 - b.tokens) * rule.refillMs);
  return { message: `You're ${rule.doing} too fast; try again in ${wordsFor(retryAfterMs)}`, retryAfterMs };
}

/** Gives back what `take` took (the frame was refused further on and will be sent again). */
function giveBack(c: ConversationContext, visitorId: string, action: Action): void {
  const b = c.memory.allowances.get(`${visitorId}:${action}`);
  if (b) b.tokens = Math.min(VISITOR_ALLOWANCES[action].burst, b.tokens + 1);
}

/**
 * Runs `handle` for a visitor's frame if it is within their allowance (and,
 * for a chat message, their network's); otherwise does nothing and returns
 * the refusal.
 *
 * Why messages wait in a line: the network's limiter is asked over I/O, and
 * while one handler waits the object takes the next frame. Each message is
 * handled only after the one before it was, so messages are stored in the
 * order they arrived, as without the check.
 */
export async function admit(
  c: ConversationContext,
  visitorId: string,
  frame: ClientFrame,
  handle: () => Promise<void>,
): Promise<TooFast | null> {
  const action = actionOf(frame);
  const refused = action === null ? null : take(c, visitorId, action);
  if (refused) return refused;
  const limiter = c.env.MESSAGE_LIMIT;
  const ip = c.meta.ip;
  // RATE_LIMITS=off: the local load benchmark's hundreds of visitors all come from 127.0.0.1.
  if (action !== "send" || !limiter || !ip || c.env.RATE_LIMITS === "off") {
    await handle();
    return null;
  }
  const verdict = limiter.limit({ key: networkOf(ip) }).then(
    (r) => r.success,
    (err: unknown) => {
      // The limiter being down must not stop the chat: let the message through.
      logError("rate_limiter.failed", { conversationId: c.meta.id }, err);
      return true;
    },
  );
  const before = c.memory.networkLine;
  let done!: () => void;
  c.memory.networkLine = new Promise<void>((resolve) => (done = resolve));
  try {
    const [allowed] = await Promise.all([verdict, before]);
    if (!allowed) {
      giveBack(c, visitorId, "send");
      return {
        message: `Too many messages from your network; try again in ${wordsFor(NETWORK_RETRY_MS)}`,
        retryAfterMs: NETWORK_RETRY_MS,
      };
    }
    await handle();
    return null;
  } finally {
    done();
  }
}
