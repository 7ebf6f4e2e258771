/**
 * Reading a JSON body (worker/validate/http.ts) on a small Hono app with the
 * Worker's own error handler: the media type (JSON, and text/plain only where
 * the widget loader's simple requests need it), the size declared and the
 * size sent, what is not JSON or not an object, and the words of schema
 * failures (an unknown field named first; /api/v1's field path).
 */
import { Hono } from "hono";
import * as z from "zod";
import { describe, expect, it } from "vitest";
import { onError } from "../worker/errors";
import { parse, readJson, validationHook } from "../worker/validate/http";

const app = new Hono();
app.onError(onError);
app.post("/json", async (c) => c.json(await readJson(c, { maxBytes: 20 })));
app.post("/loader", async (c) => c.json(await readJson(c, { maxBytes: 20, allowPlainText: true })));

async function send(path: string, body: string, headers: Record<string, string>) {
  const res = await app.request(path, { method: "POST", body, headers });
  const json = (await res.json()) as { error?: { code: string; message: string } };
  return { status: res.status, code: json.error?.code ?? "ok", message: json.error?.message ?? JSON.stringify(json) };
}

describe("readJson", () => {
  it("JSON by its media type, in any case and with parameters; text/plain only where asked for", async () => {
    expect(await send("/json", '{"a":1}', { "Content-Type": "Application/JSON; charset=utf-8" })).toMatchObject({
      status: 200,
      message: '{"a":1}',
    });
    for (const type of ["text/plain", "text/json", "", "application/x-json"]) {
      expect(await send("/json", '{"a":1}', type ? { "Content-Type": type } : {}), type).toEqual({
        status: 415,
        code: "unsupported_media_type",
        message: "Send JSON (Content-Type: application/json)",
      });
    }
    expect(await send("/loader", '{"a":1}', { "Content-Type": "text/plain;charset=UTF-8" })).toMatchObject({
      status: 200,
    });
  });

  it("a body over the limit is refused by its declared length, and by what arrives when that says less", async () => {
    const json = { "Content-Type": "application/json" };
    const over = { status: 413, code: "too_large", message: "Body is larger than 20 bytes" };
    expect(await send("/json", `{"a":"${"x".repeat(12)}"}`, json)).toMatchObject({ status: 200 }); // 20 bytes
    expect(await send("/json", `{"a":"${"x".repeat(13)}"}`, json)).toEqual(over); // 21
    expect(await send("/json", "{}", { ...json, "Content-Length": "21" })).toEqual(over);
    expect(await send("/json", "{}", { ...json, "Content-Length": "20" })).toMatchObject({ status: 200 });
  });

  it("what is not JSON, or not an object, is refused in words", async () => {
    const json = { "Content-Type": "application/json" };
    expect(await send("/json", "{nope", json)).toEqual({
      status: 400,
      code: "bad_json",
      message: "Body is not valid JSON",
    });
    for (const body of ["[]", "null", "3", '"s"']) {
      expect(await send("/json", body, json), body).toEqual({
        status: 400,
        code: "bad_request",
        message: "Body must be a JSON object",
      });
    }
  });
});

describe("schema failures in words", () => {
  const schema = z.strictObject({ name: z.string({ error: "name is required" }), n: z.number().optional() });

  it("an unknown field is named before any other problem", () => {
    expect(() => parse(schema, { extra: 1 })).toThrow("Unknown field: extra");
    expect(() => parse(schema, {})).toThrow("name is required");
    expect(parse(schema, { name: "a" })).toEqual({ name: "a" });
  });

  it("/api/v1 names the field's path before the problem", async () => {
    const nested = z.object({ a: z.object({ b: z.number({ error: "must be a number" }) }) });
    const answer = validationHook(nested.safeParse({ a: { b: "x" } }) as never)!;
    expect(answer.status).toBe(400);
    expect(await answer.json()).toEqual({ error: { code: "validation_error", message: "a.b: must be a number" } });
    const top = validationHook(z.number({ error: "a number" }).safeParse("x") as never)!;
    expect(await top.json()).toEqual({ error: { code: "validation_error", message: "a number" } });
    expect(validationHook({ success: true })).toBeUndefined();
  });
});
