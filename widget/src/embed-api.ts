/**
 * What the loader (widget.js, on every page, up front) hands the rest of the
 * widget (embed.js, loaded after it): types only, so nothing of this file is
 * in either script.
 */
export type Session = { token: string };
export type Listener = (detail?: unknown) => void;
export type View = { id: string; url: string; title: string; at: number; ms?: number };

/** A storage, or memory standing in for it (see the loader). */
export interface Keep {
  get<T>(key: string): T | null;
  set(key: string, value: unknown): void;
}

export interface Core {
  /** The Microchat origin the loader came from. */
  origin: string;
  siteKey: string;
  root: ShadowRoot;
  launcher: HTMLButtonElement;
  /** Adds CSS to the launcher's shadow root (a constructed stylesheet where there is one). */
  addCss(css: string): void;
  store: Keep;
  tab: Keep;
  keys: { session: string; views: string };
  /** The page views queued and not yet sent. */
  views(): View[];
  /** A queued view as it is sent: the page shown now gets its title as it is now. */
  titled(view: View): View;
  /** Microchat.on's listeners, by event. */
  listeners: Record<string, Listener[]>;
  /** What the visitor (or the page) asked for last: the chat open or not. */
  wanted(): boolean;
  want(open: boolean): void;
}

export interface Embed {
  /** Sends the queued page views. */
  flush(): Promise<void>;
  /** Makes the chat match `wanted()`: opens (loading it the first time) or minimises it. */
  sync(): Promise<void>;
  /** The page put the launcher back (it had emptied <html>): the chat frame reloads. */
  remounted(): void;
  setUser(user: { id: string; name?: string; email?: string; hash?: string }): Promise<boolean>;
  logout(): Promise<boolean>;
}

export type EmbedStart = (core: Core) => Embed;
