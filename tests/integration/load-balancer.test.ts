/**
 * Two Attune nodes (built server, one Redis) behind nginx with the deployment template of docs/operations.md:
 * long-polling stays on the node that holds its Engine.IO session, websockets pass through, links and origin
 * checks see the browser's origin, and the failed-link limit counts the real client address (clients bound to
 * different loopback addresses), never an address the client wrote itself.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { REDIS_URL, redisAvailable, requireService } from "../support/env.ts";
import { type AttuneCluster, NODE_NAMES, nginxAvailable, startAttuneCluster } from "../support/nginx.ts";
import { pollingRequest, upgradeRequest } from "../support/raw-http.ts";
import { createTestSession, redisTestPrefix, tokenOf } from "../support/server.ts";
import { buildClient } from "../support/browser.ts";

const runs = requireService("Redis", await redisAvailable()) && requireService("nginx", nginxAvailable());

const sockets: Socket[] = [];
const open: Participant[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
  for (const p of open.splice(0)) p.close();
});

/** One websocket handshake through nginx from a given loopback address; "connected" or the refusal's code. */
function handshakeFrom(url: string, localAddress: string, token: string, headers: Record<string, string> = {}) {
  // engine.io-client hands localAddress to the websocket in Node; its types do not list it.
  const opts = {
    auth: { token },
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: 3000,
    localAddress,
    extraHeaders: headers,
  } as Partial<ManagerOptions & SocketOptions>;
  const socket = io(url, opts);
  sockets.push(socket);
  return new Promise<string>((resolve) => {
    socket.on("connect", () => resolve("connected"));
    socket.on("connect_error", (err: Error & { data?: { code?: string } }) => resolve(err.data?.code ?? err.message));
  });
}

describe.runIf(runs)("behind nginx, two nodes", { timeout: 60_000 }, () => {
  let cluster: AttuneCluster;
  beforeAll(async () => {
    buildClient();
    cluster = await startAttuneCluster({
      REDIS_URL,
      REDIS_PREFIX: redisTestPrefix("attune-lb"),
      AUTH_FAILURES_PER_MINUTE: "3",
      LOG_LEVEL: "info",
    });
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it("hands out links on nginx's origin, and serves pages and the API through it", async () => {
    const { nginx } = cluster;
    expect((await fetch(`${nginx.url}/healthz`)).status).toBe(200);
    const created = await createTestSession(nginx.url, { mode: "guided", channel: "typed" });
    expect(created.links.a.startsWith(`${nginx.url}/join/`)).toBe(true);
    const page = await fetch(`${nginx.url}/join/${tokenOf(created.links.a)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("cache-control")).toBe("no-store");
  });

  it("keeps a long-polling session on the node that holds it, while seats on both nodes play together", async () => {
    const { nginx, nodes } = cluster;
    const created = await createTestSession(nginx.url, { mode: "guided", channel: "typed", agenda: ["check-in"] });
    // Polling only, as a browser starts: every request after the handshake must reach the same node.
    const a = await Participant.join(created.links.a, { transports: ["polling"] });
    const b = await Participant.join(created.links.b, { transports: ["polling"] });
    open.push(a, b);
    const sids = [a, b].map((p) => p.socket.io.engine.id);
    const onNode = sids.map((sid) => cluster.nodeOf(sid));
    // New connections go to the least busy node: the two seats land on different nodes.
    expect(new Set(onNode).size).toBe(2);
    let drops = 0;
    for (const p of [a, b]) p.on("disconnect", () => drops++);

    await Promise.all([a.waitFor((v) => v.presence.b), b.waitFor((v) => v.presence.a)]);
    const start = await a.send({ type: "start-exercise" });
    expect(start.ok).toBe(true);
    for (const p of [a, b]) {
      const ack = await p.send({ type: "answer", answer: { rating: 5, feeling: "calm" } });
      expect(ack.ok).toBe(true);
    }
    await Promise.all([a.waitFor((v) => v.completed.length === 1), b.waitFor((v) => v.completed.length === 1)]);
    expect(drops).toBe(0);
    // Each seat joined on its own node (the node's log names it), and nowhere else.
    for (const [i, seat] of [
      [onNode[0]!, "a"],
      [onNode[1]!, "b"],
    ] as const) {
      const joined = new RegExp(`"session":"${created.id}","seat":"${seat}".*"msg":"join"`);
      expect(nodes[i]!.output()).toMatch(joined);
      expect(nodes[1 - i]!.output()).not.toMatch(joined);
    }
    // The routing is what keeps it working: the other node does not know the session id.
    const foreign = await fetch(`${nodes[1 - onNode[0]!]!.url}/socket.io/?EIO=4&transport=polling&sid=${sids[0]}`);
    expect(foreign.status).toBe(400);
    expect(await foreign.json()).toEqual({ code: 1, message: "Session ID unknown" });
  });

  it("answers a foreign Origin with the documented 403 on both transports, and lets nginx's own origin in", async () => {
    const { nginx } = cluster;
    const refusal = { status: 403, contentType: "application/json", body: '{"code":4,"message":"ORIGIN_NOT_ALLOWED"}' };
    expect(await upgradeRequest(nginx.url, { origin: "http://evil.example" })).toEqual(refusal);
    expect(await pollingRequest(nginx.url, { origin: "http://evil.example" })).toEqual(refusal);
    expect((await upgradeRequest(nginx.url, { origin: nginx.url })).status).toBe(101);
    const polling = await pollingRequest(nginx.url, { origin: nginx.url });
    expect(polling.status).toBe(200);
    // The node named itself in the id it handed out.
    const sid = /"sid":"([^"]+)"/.exec(polling.body)?.[1] ?? "";
    expect(NODE_NAMES.some((n) => sid.startsWith(`${n}.`))).toBe(true);
  });

  it("counts failed links per real client address, on every node, and a forged X-Forwarded-For changes nothing", async () => {
    const { nginx } = cluster;
    const created = await createTestSession(nginx.url, { mode: "guided", channel: "typed" });
    const valid = tokenOf(created.links.a);
    const GUESSER = "127.0.0.2";
    const NEIGHBOUR = "127.0.0.3";
    // Each node counts in its own memory (AUTH_FAILURES_PER_MINUTE=3 per node): guess through nginx until both
    // nodes refuse the guesser. Asked directly (no proxy in between), a node sees the same client address as
    // through nginx, so it answers for the guesses nginx brought it.
    const refusedBy = async () =>
      Promise.all(
        cluster.nodes.map((node) => handshakeFrom(node.url, GUESSER, valid).then((r) => r === "RATE_LIMITED")),
      );
    const seen: string[] = [];
    for (let i = 0; i < 20 && !(await refusedBy()).every(Boolean); i++) {
      seen.push(await handshakeFrom(nginx.url, GUESSER, `guess-${i}-${"x".repeat(16)}`));
    }
    expect(await refusedBy()).toEqual([true, true]);
    // Both nodes took their three failures (six unknown links at least) before refusing.
    expect(seen.filter((s) => s === "TOKEN_UNKNOWN").length).toBeGreaterThanOrEqual(6);
    // The guesser is refused on both nodes, even with a valid link and whatever address it claims.
    for (let i = 0; i < 2; i++) {
      expect(await handshakeFrom(nginx.url, GUESSER, valid, { "x-forwarded-for": "198.51.100.9" })).toBe(
        "RATE_LIMITED",
      );
    }
    // Someone else (another address) connects through the same nginx, on both nodes.
    for (let i = 0; i < 2; i++) expect(await handshakeFrom(nginx.url, NEIGHBOUR, valid)).toBe("connected");
  });
});
