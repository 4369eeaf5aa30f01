/**
 * Every refusal path of the socket handshake, each with its code in connect_error (message and data):
 * missing, unknown, malformed, revoked, expired and erased links, a foreign Origin, and token guessing.
 */
import { io, type Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { createTestSession, startTestServer, storeVariants, tokenOf } from "../support/server.ts";

const variants = await storeVariants();
const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

interface Refusal {
  message: string;
  code?: string;
}

/** Connects once (no retries) and resolves with the refusal, or "connected" when the server lets it in. */
function attempt(url: string, opts: Parameters<typeof io>[1] = {}): Promise<Refusal | "connected"> {
  const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true, timeout: 3000, ...opts });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.on("connect", () => resolve("connected"));
    socket.on("connect_error", (err: Error & { data?: { code?: string } }) =>
      resolve({ message: err.message, code: err.data?.code }),
    );
  });
}

const refusal = (code: string): Refusal => ({ message: code, code });

describe.each(variants)("handshake ($name store)", (variant) => {
  it("a link's token connects its seat; no token, unknown and malformed tokens are refused", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    expect(await attempt(server.url, { auth: { token: tokenOf(created.links.b) } })).toBe("connected");
    expect(await attempt(server.url, { auth: {} })).toEqual(refusal("TOKEN_MISSING"));
    expect(await attempt(server.url)).toEqual(refusal("TOKEN_MISSING"));
    // Well-formed but never issued (a far-future expiry hint), then garbage of every shape.
    const forged = `${"x".repeat(21)}.${(Date.now() + 3_600_000).toString(36)}`;
    expect(await attempt(server.url, { auth: { token: forged } })).toEqual(refusal("TOKEN_UNKNOWN"));
    expect(await attempt(server.url, { auth: { token: "not-a-token" } })).toEqual(refusal("TOKEN_UNKNOWN"));
    expect(await attempt(server.url, { auth: { token: 12345 } })).toEqual(refusal("TOKEN_UNKNOWN"));
    expect(await attempt(server.url, { auth: { token: { $ne: null } } })).toEqual(refusal("TOKEN_UNKNOWN"));
  });

  it("a revoked link is refused, the other seat's link still works", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    const a = tokenOf(created.links.a);
    const res = await fetch(`${server.url}/api/sessions/${created.id}/links/a/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${a}` },
    });
    expect(res.status).toBe(200);
    expect(await attempt(server.url, { auth: { token: a } })).toEqual(refusal("TOKEN_REVOKED"));
    expect(await attempt(server.url, { auth: { token: tokenOf(created.links.b) } })).toBe("connected");
  });

  it("an expired session's link is refused as expired; an erased one as unknown", async () => {
    const server = await startTestServer({ ...variant.options(), sessionTtlMs: 300 });
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    await new Promise((r) => setTimeout(r, 450));
    expect(await attempt(server.url, { auth: { token: tokenOf(created.links.a) } })).toEqual(refusal("TOKEN_EXPIRED"));

    const longer = await startTestServer(variant.options());
    const kept = await createTestSession(longer.url, { mode: "guided", channel: "typed" });
    const b = tokenOf(kept.links.b);
    const erased = await fetch(`${longer.url}/api/sessions/${kept.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${b}` },
    });
    expect(erased.status).toBe(200);
    expect(await attempt(longer.url, { auth: { token: b } })).toEqual(refusal("TOKEN_UNKNOWN"));
  });

  it("a browser from a foreign origin is refused with 403; same origin and listed origins pass", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    const token = tokenOf(created.links.a);
    const poll = (origin: string) =>
      fetch(`${server.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } }).then((r) => r.status);
    expect(await poll("http://evil.example")).toBe(403);
    expect(await poll(server.url)).toBe(200);
    const foreign = await attempt(server.url, {
      auth: { token },
      transports: ["polling"],
      extraHeaders: { origin: "http://evil.example" },
    });
    expect(foreign).not.toBe("connected");
    const same = await attempt(server.url, {
      auth: { token },
      transports: ["polling"],
      extraHeaders: { origin: server.url },
    });
    expect(same).toBe("connected");

    const listed = await startTestServer({ ...variant.options(), allowedOrigins: ["https://app.example"] });
    const pollListed = (origin: string) =>
      fetch(`${listed.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } }).then((r) => r.status);
    expect(await pollListed("https://app.example")).toBe(200);
    // With an allow-list, only the listed origins pass, not even the server's own.
    expect(await pollListed(listed.url)).toBe(403);
    expect(await pollListed("http://evil.example")).toBe(403);
  });

  it("token guessing is rate-limited per address, then even a valid link waits", async () => {
    const server = await startTestServer({ ...variant.options(), authFailuresPerMinute: 3 });
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    for (let i = 0; i < 3; i++) {
      expect(await attempt(server.url, { auth: { token: `guess-${i}` } })).toEqual(refusal("TOKEN_UNKNOWN"));
    }
    expect(await attempt(server.url, { auth: { token: `guess-4` } })).toEqual(refusal("RATE_LIMITED"));
    expect(await attempt(server.url, { auth: { token: tokenOf(created.links.a) } })).toEqual(refusal("RATE_LIMITED"));
    // The REST routes share the limit.
    const res = await fetch(`${server.url}/api/sessions/${created.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${tokenOf(created.links.a)}` },
    });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("RATE_LIMITED");
  });
});
