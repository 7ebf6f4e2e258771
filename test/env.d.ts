// Types for `cloudflare:test` / `cloudflare:workers` inside the test runtime:
// the Worker's own Env (worker/worker-configuration.d.ts and worker/env.ts)
// is the tests' `env`.
declare module "vitest" {
  export interface ProvidedContext {
    /** test/email-corpus.test.ts delivers every Nth message of the mail corpus (MAIL_CORPUS_STRIDE). */
    mailCorpusStride: number;
  }
}
export {};
