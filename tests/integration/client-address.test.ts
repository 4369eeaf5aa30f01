/**
 * One notion of the client's address (TRUST_PROXY) for every limit: behind a proxy on the same host, the socket
 * handshake counts failed links per forwarded client exactly as REST does, so one person guessing links blocks
 * that person only; forwarded headers from a hop that is not a trusted proxy are ignored.
 */
import { io, type Socket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { createTestSession, startTestServer, tokenOf } from "../support/server.ts";

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

const GUESSER = "203.0.113.7";
const NEIGHBOUR = "198.51.100.20";

/** One handshake as a client forwarded by a proxy on this host; resolves "connected" or the refusal's code. */
function handshake(url: string, token: string, forwardedFor?: string): Promise<string> {
  const socket = io(url, {
    auth: { token },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: 3000,
    extraHeaders: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
  });
  sockets.push(socket);
  return new Promise((resolve) => {
    socket.on("connect", () => resolve("connected"));
    socket.on("connect_error", (err: Error & { data?: { code?: string } }) => resolve(err.data?.code ?? err.message));
  });
}

/** A REST call presenting `token`, forwarded for `forwardedFor`; resolves with status and error code. */
async function erase(url: string, id: string, token: string, forwardedFor: string) {
  const res = await fetch(`${url}/api/sessions/${id}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${token}`, "x-forwarded-for": forwardedFor },
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

const forged = (n: number) => `guess-${n}-${"x".repeat(16)}`;

describe("client address behind a proxy on the same host (TRUST_PROXY=loopback, the default)", () => {
  it("30 bad links from one forwarded address block that address only, on the handshake and on REST", async () => {
    // The default budget (AUTH_FAILURES_PER_MINUTE=30): every request reaches Attune from 127.0.0.1.
    const server = await startTestServer();
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    for (let i = 0; i < 30; i++) expect(await handshake(server.url, forged(i), GUESSER)).toBe("TOKEN_UNKNOWN");
    expect(await handshake(server.url, forged(30), GUESSER)).toBe("RATE_LIMITED");
    expect(await handshake(server.url, tokenOf(created.links.a), GUESSER)).toBe("RATE_LIMITED");

    // Another person behind the same proxy is not touched: a valid link connects, a bad one is just unknown.
    expect(await handshake(server.url, tokenOf(created.links.a), NEIGHBOUR)).toBe("connected");
    expect(await handshake(server.url, forged(99), NEIGHBOUR)).toBe("TOKEN_UNKNOWN");
    // Nor is the proxy's own address, for requests it makes itself.
    expect(await handshake(server.url, tokenOf(created.links.b))).toBe("connected");

    // REST reads the same address: the guesser waits there too, the neighbour does not.
    expect(await erase(server.url, created.id, tokenOf(created.links.a), GUESSER)).toEqual({
      status: 429,
      code: "RATE_LIMITED",
    });
    expect(await erase(server.url, created.id, forged(100), NEIGHBOUR)).toEqual({ status: 401, code: "TOKEN_UNKNOWN" });
  });

  it("failures on REST count for the handshake of the same forwarded address, and only that one", async () => {
    const server = await startTestServer({ authFailuresPerMinute: 3 });
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
    for (let i = 0; i < 3; i++) {
      expect(await erase(server.url, created.id, forged(i), GUESSER)).toEqual({ status: 401, code: "TOKEN_UNKNOWN" });
    }
    expect(await handshake(server.url, tokenOf(created.links.a), GUESSER)).toBe("RATE_LIMITED");
    expect(await handshake(server.url, tokenOf(created.links.a), NEIGHBOUR)).toBe("connected");
    // The client is the nearest address that is not a trusted proxy: a loopback hop in the chain is skipped.
    expect(await handshake(server.url, tokenOf(created.links.b), `${GUESSER}, 127.0.0.1`)).toBe("RATE_LIMITED");
    // An address the client wrote itself further out is not believed: the guesser cannot pose as someone else.
    expect(await handshake(server.url, tokenOf(created.links.b), `${NEIGHBOUR}, ${GUESSER}`)).toBe("RATE_LIMITED");
  });
});

describe("client address when the peer is not a trusted proxy", () => {
  for (const trustProxy of [[], ["10.0.0.1"]]) {
    it(`TRUST_PROXY=${trustProxy.join(",") || "none"}: X-Forwarded-For is ignored; the socket's peer is the client`, async () => {
      const server = await startTestServer({ authFailuresPerMinute: 2, trustProxy });
      const created = await createTestSession(server.url, { mode: "guided", channel: "typed" });
      expect(await handshake(server.url, forged(1), GUESSER)).toBe("TOKEN_UNKNOWN");
      expect(await erase(server.url, created.id, forged(2), "192.0.2.1")).toEqual({
        status: 401,
        code: "TOKEN_UNKNOWN",
      });
      // Whatever address it claims, the same peer has spent its budget.
      expect(await handshake(server.url, tokenOf(created.links.a), NEIGHBOUR)).toBe("RATE_LIMITED");
      expect(await handshake(server.url, tokenOf(created.links.a))).toBe("RATE_LIMITED");
    });
  }

  it("session creation is counted per peer too (a forged X-Forwarded-For buys no new budget)", async () => {
    const server = await startTestServer({ sessionsPerHour: 1, trustProxy: [] });
    const post = (forwardedFor: string) =>
      fetch(`${server.url}/api/sessions`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
        body: JSON.stringify({ mode: "guided", channel: "typed" }),
      }).then((r) => r.status);
    expect(await post(GUESSER)).toBe(201);
    expect(await post(NEIGHBOUR)).toBe(429);
  });
});
