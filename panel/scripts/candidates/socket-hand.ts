// The shared live socket (reconnect, ping and silence, resume, online/offline).
import { liveSocket } from "../../../widget/src/lib/live-socket";

const s = liveSocket<{ type: string }, { type: string }>({ path: "/ws/panel", onFrame: console.log });
s.start();
