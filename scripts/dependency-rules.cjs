/**
 * The Worker's layering, checked by dependency-cruiser in `npm test`
 * (`npm run lint:deps`). Each rule says why it exists; a break names the
 * two files and the rule.
 *
 *   routes → services → stubs → (the objects, by RPC only)
 *   routes, services, objects → validate, email, lib, errors, protocol
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      severity: "error",
      comment: "A runtime import cycle makes load order matter and ties layers together (type-only imports are fine).",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "leaf-layers-stay-leaves",
      severity: "error",
      comment: "email/, validate/ and lib/ are used by everything above them, so they may not reach back up.",
      from: { path: "^worker/(email|validate|lib)/" },
      to: { path: "^worker/(conversation|workspace|routes|services)/" },
    },
    {
      name: "routes-never-import-routes",
      severity: "error",
      comment: "A route that needs another route's work needs a service.",
      from: { path: "^worker/routes/" },
      to: { path: "^worker/routes/" },
    },
    {
      name: "routes-reach-objects-only-by-stub",
      severity: "error",
      comment: "Routes and services talk to a Durable Object through stubs.ts (types only otherwise).",
      from: { path: "^worker/(routes|services)/" },
      to: { path: "^worker/(conversation|workspace)/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "objects-never-import-http-layers",
      severity: "error",
      comment: "A Durable Object is reached by RPC; it never imports the route or service layer.",
      from: { path: "^worker/(conversation|workspace)/" },
      to: { path: "^worker/(routes|services)/" },
    },
    {
      name: "objects-keep-to-themselves",
      severity: "error",
      comment: "One object talks to the other by RPC through stubs.ts, never by importing its modules.",
      from: { path: "^worker/(conversation|workspace)/" },
      to: { path: "^worker/(conversation|workspace)/", pathNot: "^worker/$1/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "browser-code-never-imports-worker-code",
      severity: "error",
      comment: "The panel and the widget share only the protocol's types with the Worker.",
      from: { path: "^(panel|widget)/" },
      to: { path: "^worker/", pathNot: "^worker/protocol/" },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing.",
      from: {},
      to: { couldNotResolve: true, pathNot: "^cloudflare:" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "worker/tsconfig.json" },
    enhancedResolveOptions: {
      extensions: [".ts", ".tsx", ".js", ".mjs", ".d.ts"],
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "workerd", "browser", "types", "default"],
      mainFields: ["module", "main", "types", "typings"],
    },
  },
};
