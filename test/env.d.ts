// Types for `cloudflare:test` / `cloudflare:workers` inside the test runtime.
import type { Env as WorkerEnv } from "../worker/env";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
    interface GlobalProps {
      mainModule: typeof import("../worker/index");
      durableNamespaces: "Conversation" | "Workspace";
    }
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    /** test/email-corpus.test.ts delivers every Nth message of the mail corpus (MAIL_CORPUS_STRIDE). */
    mailCorpusStride: number;
  }
}
