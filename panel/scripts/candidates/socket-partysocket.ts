// partysocket's ReconnectingWebSocket alone (no ping, silence detection or resume: those would come on top).
import ReconnectingWebSocket from "partysocket/ws";

const s = new ReconnectingWebSocket(() => `wss://${location.host}/ws/panel`);
s.addEventListener("message", console.log);
