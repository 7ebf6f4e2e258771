// The Worker's domain modules under mutation testing, by area: the glob
// StrykerJS mutates for each (scripts/mutation.mjs, scripts/mutation-gate.mjs).
export const AREAS = {
  validate: "worker/validate/**/*.ts",
  email: "worker/email/**/*.ts",
  conversation: "worker/conversation/**/*.ts",
  workspace: "worker/workspace/**/*.ts",
};
