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
      /** "off" disables the per-IP limits (local benchmarks only); per-visitor limits and sign-in throttling per account stay. */
      RATE_LIMITS?: string;
    }
  }
}

/**
 * The environment. Of note: SITE_KEY is the public key the widget's script
 * tag carries (it may change); WORKSPACE_ID is the workspace's permanent
 * identity (it names the Workspace object and is signed into visitor tokens);
 * IDENTITY_SECRET, typed as a string because the local config lists it, may
 * be unset in a deployment: identity verification is off then.
 */
export type Env = Cloudflare.Env;
