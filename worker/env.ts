/**
 * Bindings and variables the Worker and its Durable Objects receive.
 *
 * Everything wrangler.toml declares (bindings, vars, required secrets) is
 * typed by `wrangler types` in worker-configuration.d.ts: regenerate it with
 * `npm run types` after changing wrangler.toml (`npm test` fails while it is
 * stale). Here only what wrangler.toml does not declare: the optional settings.
 */
declare global {
  namespace Cloudflare {
    interface Env {
      /**
       * Secret the site uses to sign `setUser` identities (HMAC-SHA256 of the
       * user id). A secret (`wrangler secret put IDENTITY_SECRET`), never in
       * the repo. Identity verification is off while it is unset.
       */
      IDENTITY_SECRET?: string;
      /** "off" disables the per-IP limits (local benchmarks only); per-visitor limits and sign-in throttling per account stay. */
      RATE_LIMITS?: string;
    }
  }
}

/**
 * The environment. Of note: SITE_KEY is the public key the widget's script
 * tag carries (it may change); WORKSPACE_ID is the workspace's permanent
 * identity (it names the Workspace object and is signed into visitor tokens).
 */
export type Env = Cloudflare.Env;
