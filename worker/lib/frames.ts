// shim: removed at merge
/** Old path of socket-frame validation the conversation object still imports; the code lives in `validate/frames.ts`. */
export { validateClientFrame } from "../validate/frames";
