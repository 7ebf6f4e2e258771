import { readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

// The Worker's domain modules under mutation testing, by area: the glob
// StrykerJS mutates for each (scripts/mutation.mjs), and the floor below which
// `npm test` fails (scripts/mutation-gate.mjs). A floor is the score last
// measured, rounded down: it only ever rises as tests are added, towards
// TARGET. An area with no committed report yet is listed as not measured.
export const AREAS = {
  validate: "worker/validate/**/*.ts",
  email: "worker/email/**/*.ts",
  conversation: "worker/conversation/**/*.ts",
  workspace: "worker/workspace/**/*.ts",
};

/**
 * The workerd test files each area's mutants run against: the ones that
 * exercise it. Every request passes through validation, so without a list a
 * mutant in a body parser would run most of the suite (~4 minutes) each time
 * it survives; the score of an area is what its own tests pin down.
 */
export const TEST_FILES = {
  validate: [
    "webhook-url-rules",
    "frame-rules",
    "body-rules",
    "read-json-rules",
    "frames",
    "validation-paths",
    "openapi-conformance",
    "visitor-limits",
    "profile-flood",
    "webhook-targets",
    "files",
    "api-v1",
    "auth",
    "rate-limits",
    "email",
    "identity",
  ].map((name) => `test/${name}.test.ts`),
  email: [
    "html-rules",
    "foreign-rules",
    "parse-rules",
    "inbound-rules",
    "entities",
    "sender-check",
    "mime-rules",
    "email",
    "email-sender",
    "email-linear",
    "email-corpus",
    "sanitiser-corpus",
    "survey-reports",
  ].map((n) => `test/${n}.test.ts`),
  conversation: [
    "conversation-object-rules",
    "connection-rules",
    "index-report-rules",
    "visitor-rules",
    "email-channel-rules",
    "conversation-state",
    "conversation-meta",
    "assignment-rules",
    "survey-rules",
    "access-rules",
    "email-linear",
    "messages",
    "assignment",
    "socket-rights",
    "frames",
    "visitor-limits",
    "files",
    "delete",
    "survey-reports",
    "index",
    "eviction",
    "large-history",
    "visitor-info",
    "email",
    "presence",
    "availability",
    "identity",
    "sessions",
    "visitor-tokens",
    "authorization",
  ].map((n) => `test/${n}.test.ts`),
  workspace: [
    "workspace",
    "availability",
    "workspace-object-rules",
    "retention-rules",
    "audit-rules",
    "report-window",
    "login-throttle-rules",
    "email-threads-rules",
    "operator-rules",
    "api-token-rules",
    "webhook-rules",
    "reports-rules",
    "conversation-index-rules",
    "panel-socket-rules",
    "index",
    "sessions",
    "socket-rights",
    "presence",
    "auth",
    "login-throttle",
    "authorization",
    "authorization-matrix",
    "api-tokens",
    "api-v1",
    "audit",
    "survey-reports",
    "delete",
    "eviction",
    "identity",
    "site-key",
    "webhook-targets",
    "email",
    "visitor-tokens",
  ].map((n) => `test/${n}.test.ts`),
};

/** The score (per cent of mutants some test notices) below which an area fails `npm test`. */
export const FLOORS = {
  validate: 92,
  email: 93,
  conversation: 93,
  workspace: 96,
};

/**
 * Files of an area measured a file at a time that have no report yet: listed
 * by the gate, not failed. Any other file without a report fails it (a file
 * added since the area was measured).
 */
export const NOT_MEASURED_YET = {};

/** Where every area is headed. */
export const TARGET = 85;

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The folder an area's glob covers ("worker/email"). */
export const areaDir = (area) => AREAS[area].slice(0, AREAS[area].indexOf("/**"));

/** Where a run's incremental report lives: the whole area's, or one file's. */
export const reportPath = (area, file) =>
  file ? `reports/mutation/${area}/${file.replace(/\.ts(?=\+|$)/g, "")}.json` : `reports/mutation/${area}.json`;

/** The .ts files (not .d.ts) an area's glob `dir/**\/*.ts` covers. */
export function filesOf(glob) {
  const dir = join(root, glob.slice(0, glob.indexOf("/**")));
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(relative(root, p));
    }
  };
  walk(dir);
  return out.sort();
}
