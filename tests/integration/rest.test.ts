/**
 * The REST surface: creating sessions (and every 400 naming its field), the catalogue, the optional therapist
 * API key, health and readiness, the client page with its security headers.
 */
import { describe, expect, it } from "vitest";
import type { CreateSessionResponse } from "../../shared/protocol.ts";
import { Participant } from "../../client/headless/participant.ts";
import { startRedisServer } from "../support/redis-server.ts";
import { redisAvailable, requireService } from "../support/env.ts";
import { createTestSession, startTestServer, storeVariants, tokenOf } from "../support/server.ts";

const variants = await storeVariants();

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/api/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return {
    status: res.status,
    body: (await res.json()) as { error?: { code: string; message: string; field?: string } },
  };
}

describe.each(variants)("REST ($name store)", (variant) => {
  it("creates a session with one absolute link per seat and the default agenda", async () => {
    const server = await startTestServer(variant.options());
    const guided = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      names: { a: " Sam ", b: "Alex" },
    });
    expect(guided.id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(Object.keys(guided.links).sort()).toEqual(["a", "b"]);
    for (const link of Object.values(guided.links))
      expect(link).toMatch(new RegExp(`^${server.url}/join/[A-Za-z0-9_.-]+$`));
    expect(tokenOf(guided.links.a)).not.toBe(tokenOf(guided.links.b));
    // At least 126 random bits: a 21-character nanoid before the expiry hint.
    expect(tokenOf(guided.links.a).split(".")[0]).toHaveLength(21);
    expect(guided.expiresAt).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const a = await Participant.join(guided.links.a);
    expect(a.view.agenda.map((e) => e.id)).toEqual(["check-in", "intentional-dialogue"]);
    expect(a.view.names).toEqual({ a: "Sam", b: "Alex" });
    a.close();

    const led = await createTestSession(server.url, { mode: "therapist", channel: "spoken", agenda: ["repair"] });
    expect(Object.keys(led.links).sort()).toEqual(["a", "b", "therapist"]);
  });

  it("uses PUBLIC_ORIGIN for links when configured", async () => {
    const server = await startTestServer({ ...variant.options(), publicOrigin: "https://attune.example" });
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    expect(created.links.a).toMatch(/^https:\/\/attune\.example\/join\//);
  });

  it("answers bad bodies with 400 and a JSON error naming the field", async () => {
    const server = await startTestServer(variant.options());
    const cases: [string, string, number, string, string | undefined][] = [
      ["missing mode", JSON.stringify({ channel: "typed" }), 400, "INVALID_COMMAND", "mode"],
      ["bad channel", JSON.stringify({ mode: "guided", channel: "video" }), 400, "INVALID_COMMAND", "channel"],
      [
        "agenda not a list",
        JSON.stringify({ mode: "guided", channel: "typed", agenda: "check-in" }),
        400,
        "INVALID_COMMAND",
        "agenda",
      ],
      [
        "unknown exercise",
        JSON.stringify({ mode: "guided", channel: "typed", agenda: ["check-in", "juggling"] }),
        400,
        "UNKNOWN_EXERCISE",
        "agenda[1]",
      ],
      [
        "name too long",
        JSON.stringify({ mode: "guided", channel: "typed", encrypted: false, names: { a: "n".repeat(41) } }),
        400,
        "TEXT_TOO_LONG",
        "names.a",
      ],
      [
        // A typed session is end-to-end encrypted unless asked otherwise: its names must arrive sealed.
        "name in clear in an encrypted session",
        JSON.stringify({ mode: "guided", channel: "typed", names: { a: "Sam" } }),
        400,
        "TEXT_NOT_SEALED",
        "names.a",
      ],
      ["unknown key", JSON.stringify({ mode: "guided", channel: "typed", extra: 1 }), 400, "INVALID_COMMAND", "extra"],
      ["an array", "[]", 400, "INVALID_COMMAND", "body"],
      ["invalid JSON", '{"mode": "guided",', 400, "INVALID_COMMAND", "body"],
      [
        "over 64 KB",
        JSON.stringify({ mode: "guided", channel: "typed", pad: "p".repeat(70_000) }),
        413,
        "INVALID_COMMAND",
        "body",
      ],
    ];
    for (const [what, body, status, code, field] of cases) {
      const res = await post(server.url, body);
      expect(res.status, what).toBe(status);
      expect(res.body.error?.code, what).toBe(code);
      expect(res.body.error?.field, what).toBe(field);
      expect(res.body.error?.message, what).toBeTruthy();
    }
    const notJson = await fetch(`${server.url}/api/sessions`, { method: "POST", body: "mode=guided" });
    expect(notJson.status).toBe(400);
  });

  it("lists the catalogue", async () => {
    const server = await startTestServer(variant.options());
    const res = await fetch(`${server.url}/api/exercises`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as {
      id: string;
      title: string;
      summary: string;
      untimedSummary?: string;
      steps?: unknown;
    }[];
    expect(list).toHaveLength(12);
    expect(list.map((e) => e.id).sort()).toEqual(
      [
        "appreciation",
        "check-in",
        "deeper-questions",
        "dreams-within-conflict",
        "intentional-dialogue",
        "love-maps",
        "plan-time",
        "rebuilding-trust",
        "repair",
        "speaker-listener",
        "stress-reducing",
        "weekly-check-in",
      ].sort(),
    );
    // The therapist-led exercise says so, so a guided session's picker can leave it out.
    expect(list.find((e) => e.id === "rebuilding-trust")).toMatchObject({ modes: ["therapist"] });
    for (const e of list) {
      expect(e.title).toBeTruthy();
      expect(e.summary).toBeTruthy();
      expect(e.steps).toBeUndefined();
    }
    // An exercise with timed turns also carries the words a session without timers reads, and only that one.
    const stress = list.find((e) => e.id === "stress-reducing");
    expect(stress?.summary).toMatch(/ten minutes/);
    expect(stress?.untimedSummary).toBeTruthy();
    expect(stress?.untimedSummary).not.toMatch(/minute/);
    expect(list.find((e) => e.id === "check-in")?.untimedSummary).toBeUndefined();
    for (const e of list.filter((x) => x.untimedSummary !== undefined)) {
      expect(e.untimedSummary).not.toBe(e.summary);
    }
  });

  it("serves the client page at /join/<token> with a strict CSP and no referrer; health is up", async () => {
    const server = await startTestServer(variant.options());
    const page = await fetch(`${server.url}/join/some-token`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(await page.text()).toMatch(/<html/i);
    expect((await fetch(`${server.url}/api/nothing-here`)).status).toBe(404);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it("says how to build the client when it is not built", async () => {
    const server = await startTestServer({ ...variant.options(), clientDir: "/nonexistent/attune-client/" });
    const page = await fetch(`${server.url}/join/some-token`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("npm run build");
    expect(html).not.toMatch(/<script/i);
  });

  it("with THERAPIST_API_KEYS set, a therapist-led session needs a valid key; guided sessions do not", async () => {
    const key = `${"k".repeat(12)}-secret-key-1`;
    const server = await startTestServer({ ...variant.options(), therapistApiKeys: ["another-key-0000000", key] });
    const body = JSON.stringify({ mode: "therapist", channel: "typed" });
    const none = await post(server.url, body);
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe("UNAUTHORIZED");
    const wrong = await post(server.url, body, { authorization: `Bearer ${key}x` });
    expect(wrong.status).toBe(401);
    const right = await post(server.url, body, { authorization: `Bearer ${key}` });
    expect(right.status).toBe(201);
    expect((right.body as unknown as CreateSessionResponse).links.therapist).toBeTruthy();
    const guided = await post(server.url, JSON.stringify({ mode: "guided", channel: "typed" }));
    expect(guided.status).toBe(201);
  });
});

describe("readiness follows Redis", () => {
  it("answers 503 when the configured Redis stops, 200 again when it is back", async (ctx) => {
    if (!requireService("Redis", await redisAvailable())) return ctx.skip();
    const redis = await startRedisServer();
    try {
      const server = await startTestServer({ redisUrl: redis.url, redisPrefix: "attune-ready:" });
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      await redis.stop();
      const down = await fetch(`${server.url}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toEqual({ ok: false });
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      // Creating a session while the store is down fails cleanly, and the process stays up.
      const res = await post(server.url, JSON.stringify({ mode: "guided", channel: "typed" }));
      expect(res.status).toBe(500);
      expect(res.body.error?.code).toBe("INTERNAL");
      await redis.restart();
      await expect.poll(async () => (await fetch(`${server.url}/readyz`)).status, { timeout: 5000 }).toBe(200);
      await server.close();
    } finally {
      await redis.dispose();
    }
  });
});

describe.each(variants)("session creation rate limit ($name store)", (variant) => {
  const guided = JSON.stringify({ mode: "guided", channel: "typed" });

  async function keysUnder(prefix: string | undefined): Promise<number | undefined> {
    if (!prefix) return undefined;
    const { createClient } = await import("redis");
    const client = createClient({ url: variant.options().redisUrl });
    await client.connect();
    try {
      let n = 0;
      for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 200 })) {
        n += Array.isArray(keys) ? keys.length : 1;
      }
      return n;
    } finally {
      await client.quit();
    }
  }

  it("allows SESSIONS_PER_HOUR attempts per address, then 429 RATE_LIMITED with Retry-After and nothing stored", async () => {
    const options = variant.options();
    const server = await startTestServer({ ...options, sessionsPerHour: 3 });
    const first = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    // A refused body is still an attempt: the limit counts requests, so a bad client cannot spin for free.
    expect((await post(server.url, JSON.stringify({ mode: "guided" }))).status).toBe(400);
    await createTestSession(server.url, { mode: "therapist", channel: "spoken" });

    const before = await keysUnder(options.redisPrefix);
    const res = await fetch(`${server.url}/api/sessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: guided,
    });
    expect(res.status).toBe(429);
    const retryAfter = Number(res.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(3500);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("RATE_LIMITED");
    expect(body.error.message).toMatch(/try again in 60 minutes/);
    expect(await keysUnder(options.redisPrefix)).toBe(before);

    // Still refused on the next try, even a body that would otherwise be refused for another reason.
    const again = await post(server.url, "{not json");
    expect(again.status).toBe(429);
    expect(again.body.error?.code).toBe("RATE_LIMITED");

    // Only creation is limited: the catalogue and the sessions already made keep working.
    expect((await fetch(`${server.url}/api/exercises`)).status).toBe(200);
    const a = await Participant.join(first.links.a);
    expect(a.view.you.seat).toBe("a");
    a.close();
  });

  it("counts each client address on its own (X-Forwarded-For from a loopback proxy), and per server", async () => {
    const server = await startTestServer({ ...variant.options(), sessionsPerHour: 2 });
    const from = (ip: string) => ({ "x-forwarded-for": ip });
    for (let i = 0; i < 2; i++) expect((await post(server.url, guided, from("203.0.113.7"))).status).toBe(201);
    expect((await post(server.url, guided, from("203.0.113.7"))).status).toBe(429);

    // Another address behind the same proxy has its whole budget, and so does the proxy's own address.
    for (let i = 0; i < 2; i++) expect((await post(server.url, guided, from("198.51.100.20"))).status).toBe(201);
    expect((await post(server.url, guided, from("198.51.100.20"))).status).toBe(429);
    expect((await post(server.url, guided)).status).toBe(201);

    // The limiter lives in the process, whatever the store: a fresh server has a full budget for the same address.
    // (Memory store: closing a Redis-adapter server this soon after start trips the adapter's in-flight subscribe.)
    const fresh = await startTestServer({ sessionsPerHour: 2 });
    expect((await post(fresh.url, guided, from("203.0.113.7"))).status).toBe(201);
  });
});

describe("GET /api/client-config", () => {
  it("tells every page where the quick exit goes, and the support page only when one is set", async () => {
    const plain = await startTestServer();
    const res = await fetch(`${plain.url}/api/client-config`);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ quickExitUrl: "https://www.bbc.co.uk/weather", sessionTtlHours: 24 });
    const set = await startTestServer({
      quickExitUrl: "https://example.org/news",
      supportUrl: "https://support.example/help",
    });
    expect(await (await fetch(`${set.url}/api/client-config`)).json()).toEqual({
      quickExitUrl: "https://example.org/news",
      supportUrl: "https://support.example/help",
      sessionTtlHours: 24,
    });
  });
});
