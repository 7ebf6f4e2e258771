/**
 * The audit log's wording and paging, called on the module directly over a
 * fresh workspace object's real storage: what an entry says of who did it,
 * of a privacy erasure, a token and a settings change, and where a page
 * ends. (`audit.test.ts` covers who may read it and what each route logs.)
 */
import { describe, expect, it } from "vitest";
import type { ApiTokenInfo, AuditPage, Operator, WorkspaceSettings } from "../worker/protocol";
import { AuditLog } from "../worker/workspace/audit";
import { inFreshWorkspace } from "./helpers";

const ADA = { id: "op-ada", name: "Ada", email: "ada@example.com", admin: true } as Operator;
const TOKEN: ApiTokenInfo = {
  id: "t1",
  name: "",
  operatorId: ADA.id,
  scope: "read",
  createdAt: 0,
  expiresAt: null,
  lastUsedAt: null,
};
const SETTINGS: WorkspaceSettings = {
  emailAddress: "help@shop.example",
  emailName: "Shop",
  retentionDays: 0,
  surveyByEmail: false,
  deleteBy: "admins_and_joined",
};

/** Runs `fn` with an AuditLog over a new workspace object's storage; returns what it returns. */
function withLog<T>(fn: (log: AuditLog) => T): Promise<T> {
  return inFreshWorkspace("audit", (w) => fn(new AuditLog(w)));
}

const only = (page: AuditPage) => {
  expect(page.entries).toHaveLength(1);
  return page.entries[0]!;
};

describe("audit entries", () => {
  it("name the actor, the token they acted through, or Microchat itself", async () => {
    const entries = await withLog((log) => {
      log.record(ADA, "conversation.deleted", "c1");
      log.record({ ...ADA, token: { id: "t1", name: "CRM sync" } } as Operator, "conversation.deleted", "c2");
      log.record(null, "conversation.deleted", "c3");
      return log.page(null, 10).entries;
    });
    expect(entries.map((e) => [e.target, e.actor])).toEqual([
      ["c3", { id: null, name: "Microchat", token: null }],
      ["c2", { id: "op-ada", name: "Ada", token: "CRM sync" }],
      ["c1", { id: "op-ada", name: "Ada", token: null }],
    ]);
  });

  it("a privacy erasure names a masked address or the visitor id, and at most 20 conversations", async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `c${i + 1}`);
    const entries = await withLog((log) => {
      log.erased(ADA, { email: "jane.doe@example.org" }, ["c1"]);
      log.erased(ADA, { email: "@example.org" }, []);
      log.erased(ADA, { visitorId: "v-42" }, ids(20));
      log.erased(ADA, {}, ids(21));
      return log.page(null, 10).entries.reverse();
    });
    expect(entries.map((e) => [e.action, e.target, e.detail])).toEqual([
      ["person.erased", "email j•••@example.org", "1 conversation deleted: c1"],
      ["person.erased", "email •••", "0 conversations deleted"],
      ["person.erased", "visitor v-42", `20 conversations deleted: ${ids(20).join(", ")}`],
      ["person.erased", "visitor ?", `21 conversations deleted: ${ids(20).join(", ")}, …`],
    ]);
  });

  it("a one-letter local part is masked too", async () => {
    const entry = await withLog((log) => {
      log.erased(ADA, { email: "j@example.org" }, ["c1"]);
      return only(log.page(null, 10));
    });
    expect(entry.target).toBe("email j•••@example.org");
  });

  it("a token says its scope and expiry day, or never", async () => {
    const entries = await withLog((log) => {
      log.tokenCreated(ADA, { ...TOKEN, name: "CRM", scope: "read", expiresAt: Date.UTC(2027, 0, 31, 23, 59) });
      log.tokenCreated(ADA, { ...TOKEN, name: "Backup", scope: "write", expiresAt: null });
      return log.page(null, 10).entries.reverse();
    });
    expect(entries.map((e) => [e.action, e.target, e.detail])).toEqual([
      ["token.created", "CRM", "scope read, expires 2027-01-31"],
      ["token.created", "Backup", "scope write, expires never"],
    ]);
  });

  it("a settings change lists what changed with the new values; saving the same settings logs nothing", async () => {
    const entries = await withLog((log) => {
      log.settingsChanged(ADA, SETTINGS, { ...SETTINGS });
      log.settingsChanged(ADA, SETTINGS, { ...SETTINGS, retentionDays: 30, surveyByEmail: true });
      return log.page(null, 10).entries;
    });
    expect(entries.map((e) => [e.action, e.target, e.detail])).toEqual([
      ["settings.changed", "retentionDays, surveyByEmail", "retentionDays: 30; surveyByEmail: true"],
    ]);
  });
});

describe("audit pages", () => {
  it("go newest first and say whether older entries are left, exactly", async () => {
    const pages = await withLog((log) => {
      for (let i = 1; i <= 5; i++) log.record(ADA, "conversation.deleted", `c${i}`);
      const first = log.page(null, 2);
      const second = log.page(first.entries.at(-1)!.id, 2);
      const last = log.page(second.entries.at(-1)!.id, 1);
      const exact = log.page(null, 5);
      return { first, second, last, exact };
    });
    expect(pages.first.entries.map((e) => e.target)).toEqual(["c5", "c4"]);
    expect(pages.first.hasMore).toBe(true);
    expect(pages.second.entries.map((e) => e.target)).toEqual(["c3", "c2"]);
    expect(pages.last.entries.map((e) => e.target)).toEqual(["c1"]);
    expect(pages.last.hasMore, "nothing older than the last entry").toBe(false);
    expect(pages.exact.entries).toHaveLength(5);
    expect(pages.exact.hasMore, "a page holding exactly what is left").toBe(false);
  });
});
