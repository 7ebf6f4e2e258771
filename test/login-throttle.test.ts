/**
 * Sign-in throttling, tried the way an attacker would: many wrong passwords
 * for one account, the same for an email nobody has, a parallel burst, and
 * many accounts from one network. Time is moved forward by rewriting when
 * the failures happened in the workspace's storage, never by sleeping.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { fetchApp, json, signInAdmin } from "./helpers";

const workspace = () => env.WORKSPACE.get(env.WORKSPACE.idFromName("demo"));

let counter = 0;

/** A fresh operator account (email, password) to attack. */
async function account(): Promise<{ email: string; password: string }> {
  const admin = await signInAdmin();
  const email = `target.${Date.now()}.${counter++}@example.com`;
  const password = "the right password 1";
  const res = await fetchApp("/api/operators", json({ name: "Target", email, password }, { Cookie: admin }));
  expect(res.status, await res.clone().text()).toBe(201);
  return { email, password };
}

interface Answer {
  status: number;
  code: string;
  message: string;
  retryAfter: string | null;
}

async function logIn(email: string, password: string, ip?: string): Promise<Answer> {
  const res = await fetchApp("/api/auth/login", json({ email, password }, ip ? { "CF-Connecting-IP": ip } : {}));
  const body = (await res.json()) as { error?: { code: string; message: string } };
  return {
    status: res.status,
    code: body.error?.code ?? "ok",
    message: body.error?.message ?? "",
    retryAfter: res.headers.get("Retry-After"),
  };
}

/** Moves every recorded failure `ms` into the past, as if that much time had gone by. */
async function timePasses(ms: number): Promise<void> {
  await runInDurableObject(workspace(), (_o, state) => {
    state.storage.sql.exec("UPDATE login_failures SET last_at = last_at - ?", ms);
  });
}

/** An answer without its numbers, to compare two runs whose waits may differ by a second. */
const shape = (a: Answer) => ({ ...a, message: a.message.replace(/\d+/g, "N"), retryAfter: a.retryAfter !== null });

describe("sign-in throttling", () => {
  it("25 wrong passwords lock the account: the right one is refused with a clear 429 until the lockout passes", async () => {
    const { email, password } = await account();
    const answers: Answer[] = [];
    for (let i = 0; i < 25; i++) answers.push(await logIn(email, `wrong guess ${i}`));
    const statuses = answers.map((a) => a.status);
    // Five tries; the fifth says both that it was wrong and that signing in is now paused.
    expect(statuses.slice(0, 4), JSON.stringify(statuses)).toEqual([401, 401, 401, 401]);
    expect(answers[4]).toMatchObject({ status: 429, code: "rate_limited", retryAfter: "30" });
    expect(answers[4]!.message).toMatch(/^Email or password is wrong\. Too many failed sign-ins .* 30 seconds\.$/);
    for (const a of answers.slice(5)) {
      expect(a, JSON.stringify(a)).toMatchObject({ status: 429, code: "rate_limited" });
      expect(a.message).toMatch(/Too many failed sign-ins for this email or from your network/);
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
      expect(Number(a.retryAfter)).toBeLessThanOrEqual(30);
    }

    const right = await logIn(email, password);
    expect(right, "the right password during the lockout").toMatchObject({ status: 429, code: "rate_limited" });

    await timePasses(25_000);
    expect((await logIn(email, password)).status, "5 s before the lockout ends").toBe(429);
    await timePasses(5_001);
    expect((await logIn(email, password)).status, "once the lockout has passed").toBe(200);
    // A success starts the account over: the next wrong password is an ordinary 401.
    expect(await logIn(email, "wrong again")).toMatchObject({ status: 401, code: "bad_credentials" });
  });

  it("each further failure doubles the lockout", async () => {
    const { email } = await account();
    for (let i = 0; i < 5; i++) await logIn(email, "wrong");
    await timePasses(30_001);
    expect(await logIn(email, "wrong")).toMatchObject({ status: 429, retryAfter: "60" });
    await timePasses(60_001);
    expect(await logIn(email, "wrong")).toMatchObject({ status: 429, retryAfter: "120" });
  });

  it("an email nobody has gets exactly the answers a real account gets", async () => {
    const { email } = await account();
    const unknown = `nobody.${Date.now()}@example.com`;
    const known: Answer[] = [];
    const ghost: Answer[] = [];
    for (let i = 0; i < 25; i++) {
      known.push(await logIn(email, `wrong ${i}`));
      ghost.push(await logIn(unknown, `wrong ${i}`));
    }
    expect(ghost.map(shape)).toEqual(known.map(shape));
    expect(ghost.at(-1)).toMatchObject({ status: 429, code: "rate_limited" });
  });

  it("a parallel burst of 30 guesses gets only 5 password checks", async () => {
    const { email } = await account();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => logIn(email, `burst ${i}`)));
    const checked = answers.filter((a) => a.status === 401 || a.message.startsWith("Email or password is wrong"));
    expect(checked.length, JSON.stringify(answers.map((a) => a.status))).toBe(5);
    expect(answers.filter((a) => a.status === 429).length).toBe(26);
  });

  it("20 failures from one network, on different emails, pause that network; another network signs in", async () => {
    const { email, password } = await account();
    const ip = `203.0.113.${Math.floor(Math.random() * 200) + 1}`;
    const answers: Answer[] = [];
    for (let i = 0; i < 20; i++) answers.push(await logIn(`spray.${i}.${Date.now()}@example.com`, "Password1", ip));
    expect(
      answers.slice(0, 19).every((a) => a.status === 401),
      JSON.stringify(answers.map((a) => a.status)),
    ).toBe(true);
    expect(answers[19]).toMatchObject({ status: 429, retryAfter: "30" });
    expect((await logIn(email, password, ip)).status, "the right password from the paused network").toBe(429);
    expect((await logIn(email, password, "192.0.2.77")).status, "from another network").toBe(200);
  });

  it("IPv6 addresses count by their /64: a new address in the same block is still paused", async () => {
    const block = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    for (let i = 0; i < 20; i++) await logIn(`v6.${i}.${Date.now()}@example.com`, "Password1", `${block}::${i + 1}`);
    expect((await logIn("someone@example.com", "Password1", `${block}:0:0:0:beef`)).status).toBe(429);
    expect((await logIn("someone@example.com", "Password1", "2001:db8:ffff:1::1")).status).toBe(401);
  });

  it("a right password from a network does not count against it", async () => {
    const { email, password } = await account();
    const ip = `198.18.0.${Math.floor(Math.random() * 200) + 1}`;
    // More than the 20 failures that pause a network, fewer than the 30 a minute the edge allows one network.
    for (let i = 0; i < 25; i++) expect((await logIn(email, password, ip)).status).toBe(200);
  });
});
