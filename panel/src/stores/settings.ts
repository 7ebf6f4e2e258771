/**
 * Workspace settings (the mailbox email replies come from). Loaded once per
 * signed-in shell and shared through `SettingsContext`; the Settings page
 * (admins) changes them. Email messages show the address stored with each
 * message, not this one.
 */
import { createContext, useContext } from "solid-js";
import { createStore } from "solid-js/store";
import type { WorkspaceSettings } from "../../../worker/protocol";
import { api, errorText } from "../lib/api";

export interface SettingsState {
  phase: "loading" | "ready" | "error";
  settings: WorkspaceSettings | null;
  /** Why loading failed (phase "error"). */
  error: string | null;
}

export interface SettingsActions {
  load(): Promise<void>;
  /** Saves and returns the stored settings; throws `HttpError` with the server's message. */
  save(input: Partial<WorkspaceSettings>): Promise<WorkspaceSettings>;
}

export function createSettings(): [SettingsState, SettingsActions] {
  const [state, setState] = createStore<SettingsState>({ phase: "loading", settings: null, error: null });
  const actions: SettingsActions = {
    async load() {
      try {
        const settings = await api.settings();
        setState({ phase: "ready", settings, error: null });
      } catch (e) {
        // Keep what we had: a failed refresh must not blank the form.
        setState({ phase: state.settings ? "ready" : "error", error: errorText(e) });
      }
    },
    async save(input) {
      const settings = await api.saveSettings(input);
      setState({ phase: "ready", settings, error: null });
      return settings;
    },
  };
  return [state, actions];
}

export const SettingsContext = createContext<[SettingsState, SettingsActions]>();

/** The shell's settings store; only valid under `SettingsContext.Provider`. */
export function useSettings(): [SettingsState, SettingsActions] {
  const ctx = useContext(SettingsContext);
  if (!ctx) throw new Error("useSettings outside SettingsContext");
  return ctx;
}
