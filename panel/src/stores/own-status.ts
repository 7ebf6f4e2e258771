/**
 * The signed-in operator's Online / Away switch. The panel socket's presence
 * frames are the truth; while a change is on its way the switch shows the
 * position asked for.
 */
import { createSignal } from "solid-js";
import type { OperatorPresence, PresenceStatus } from "../../../worker/protocol";
import { notify } from "../components/toast";
import { api, errorText } from "../lib/api";

export interface OwnStatus {
  /** Online or Away, as shown. */
  status(): PresenceStatus;
  /** A change is being saved. */
  busy(): boolean;
  set(status: PresenceStatus): Promise<void>;
}

export function createOwnStatus(meId: string, presence: () => readonly OperatorPresence[]): OwnStatus {
  const [wanted, setWanted] = createSignal<PresenceStatus | null>(null);
  const status = () => wanted() ?? presence().find((o) => o.id === meId)?.status ?? "online";
  return {
    status,
    busy: () => wanted() !== null,
    async set(next) {
      setWanted(next);
      try {
        await api.setStatus(next);
      } catch (e) {
        notify(`Could not change your status: ${errorText(e)}`);
      } finally {
        setWanted(null);
      }
    },
  };
}
