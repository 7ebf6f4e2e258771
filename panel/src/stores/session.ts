/**
 * Who is signed in, and which gate screen (setup / login) is shown otherwise.
 */
import { createStore } from "solid-js/store";
import type { Operator } from "../../../worker/protocol";
import { api, errorText, HttpError, onUnauthorized } from "../lib/api";
import { firstRequests } from "../lib/boot";
import { dropEarlySocket, rememberSignedIn } from "../lib/early-socket";
import { forgetKept } from "./kept-replies";

export type SessionPhase = "loading" | "setup" | "login" | "ready" | "error";

export interface SessionState {
  phase: SessionPhase;
  me: Operator | null;
  /** Shown on the login screen, e.g. after the session expired. */
  notice: string | null;
  /** Why loading failed (phase "error"). */
  error: string | null;
}

export interface SessionActions {
  /** Ask the server whether setup is needed, then who we are. */
  init(): Promise<void>;
  setup(input: { name: string; email: string; password: string }): Promise<void>;
  login(input: { email: string; password: string }): Promise<void>;
  logout(): Promise<void>;
  /** Ends every session of this operator, on every device; throws the server's error. */
  logoutEverywhere(): Promise<void>;
  /** The server no longer knows this session: back to login. */
  expire(): void;
  /** Check whether the session is still valid (sockets call this when they keep failing). */
  verify(): Promise<void>;
}

export function createSession(): [SessionState, SessionActions] {
  const [state, setStore] = createStore<SessionState>({ phase: "loading", me: null, notice: null, error: null });
  const setState = (next: Partial<SessionState>) => {
    setStore(next);
    // The early panel socket (lib/early-socket.ts): opened next time only if signed in now; useless on a gate screen.
    if (next.phase === "ready") rememberSignedIn(true);
    else if (next.phase === "login" || next.phase === "setup") {
      rememberSignedIn(false);
      dropEarlySocket();
    }
  };

  const expire = () => {
    if (state.phase !== "ready") return;
    setState({ phase: "login", me: null, notice: "Your session has ended. Please sign in again." });
  };
  onUnauthorized(expire);

  const actions: SessionActions = {
    async init() {
      setState({ phase: "loading", error: null });
      try {
        // Both at once, asked as the script started (lib/boot.ts) or again on a retry: one round trip, not two.
        const asked = firstRequests() ?? { setup: api.setupStatus(), me: api.me() };
        const me = asked.me;
        me.catch(() => undefined); // read below, unless setup is needed
        const { needsSetup } = await asked.setup;
        if (needsSetup) {
          setState({ phase: "setup" });
          return;
        }
        try {
          const { operator } = await me;
          setState({ phase: "ready", me: operator, notice: null });
        } catch (e) {
          if (e instanceof HttpError && e.status === 401) setState({ phase: "login", me: null });
          else throw e;
        }
      } catch (e) {
        setState({ phase: "error", error: errorText(e) });
      }
    },
    async setup(input) {
      try {
        const { operator } = await api.setup(input);
        setState({ phase: "ready", me: operator, notice: null });
      } catch (e) {
        if (e instanceof HttpError && e.status === 409) {
          setState({ phase: "login", notice: "This workspace is already set up. Please sign in." });
          return;
        }
        throw e;
      }
    },
    async login(input) {
      try {
        const { operator } = await api.login(input);
        setState({ phase: "ready", me: operator, notice: null });
      } catch (e) {
        if (e instanceof HttpError && e.status === 401) throw new HttpError(401, e.code, "Wrong email or password.");
        throw e;
      }
    },
    async logout() {
      try {
        await api.logout();
      } catch {
        // Signing out locally matters more than the server's answer.
      }
      setState({ phase: "login", me: null, notice: null });
      // After the windows closed (and handed over what was on its way): a signed-out tab keeps no replies.
      forgetKept();
    },
    async logoutEverywhere() {
      await api.signOutEverywhere();
      setState({ phase: "login", me: null, notice: "You are signed out on every device and browser." });
      forgetKept();
    },
    expire,
    async verify() {
      if (state.phase !== "ready") return;
      try {
        await api.me();
      } catch (e) {
        if (e instanceof HttpError && e.status === 401) expire();
      }
    },
  };
  return [state, actions];
}
