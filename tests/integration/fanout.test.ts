/**
 * What one applied command costs Redis, measured on a private redis-server so no other suite's traffic counts:
 * the service builds on the record it last stored (no load before the compare-and-set), and fan-out sends local
 * sockets their update directly and other processes one message per command, never one per seat.
 */
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { adapterStreamName, type RunningAttune, startAttune } from "../../server/app.ts";
import { loadConfig } from "../../server/config.ts";
import { silentLogger } from "../../server/log.ts";
import { RedisStore } from "../../server/store/redis.ts";
import type {
  NodeRegistry,
  SeatLink,
  SessionChange,
  SessionRecord,
  SessionStore,
  UpdateResult,
  WorkingRecord,
} from "../../server/store/types.ts";
import type { Seat, SessionView } from "../../shared/protocol.ts";
import { redisAvailable, requireService } from "../support/env.ts";
import { type PrivateRedis, startRedisServer } from "../support/redis-server.ts";
import { createTestSession, playToEnd } from "../support/server.ts";

const runs = requireService("Redis (fan-out cost suite)", await redisAvailable());

/** A real RedisStore that counts the calls which cost a round trip on the hot path. */
class CountingStore implements SessionStore {
  loads = 0;
  updates = 0;
  conflicts = 0;
  constructor(readonly inner: RedisStore) {}
  reset(): void {
    this.loads = 0;
    this.updates = 0;
    this.conflicts = 0;
  }
  create(record: SessionRecord, links: SeatLink[], ttlMs: number): Promise<void> {
    return this.inner.create(record, links, ttlMs);
  }
  load(sessionId: string): Promise<SessionRecord | null> {
    this.loads++;
    return this.inner.load(sessionId);
  }
  loadWorking(sessionId: string): Promise<WorkingRecord | null> {
    this.loads++;
    return this.inner.loadWorking(sessionId);
  }
  loadLog(sessionId: string) {
    return this.inner.loadLog(sessionId);
  }
  async update(
    sessionId: string,
    expectedVersion: number,
    change: SessionChange,
    ttlMs: number,
  ): Promise<UpdateResult> {
    this.updates++;
    const result = await this.inner.update(sessionId, expectedVersion, change, ttlMs);
    if (result.status === "conflict") this.conflicts++;
    return result;
  }
  delete(sessionId: string): Promise<void> {
    return this.inner.delete(sessionId);
  }
  findSeat(sessionId: string, tokenHash: string) {
    return this.inner.findSeat(sessionId, tokenHash);
  }
  revokeSeat(sessionId: string, seat: Seat): Promise<boolean> {
    return this.inner.revokeSeat(sessionId, seat);
  }
  reissueSeat(sessionId: string, seat: Seat, tokenHash: string): Promise<boolean> {
    return this.inner.reissueSeat(sessionId, seat, tokenHash);
  }
  ttl(sessionId: string): Promise<number | null> {
    return this.inner.ttl(sessionId);
  }
  ping(): Promise<boolean> {
    return this.inner.ping();
  }
  nodeRegistry(): NodeRegistry {
    return this.inner.nodeRegistry();
  }
  spaces() {
    return this.inner.spaces();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The same join link, pointed at another server. */
function via(server: { url: string }, link: string): string {
  return `${server.url}${new URL(link).pathname}`;
}

describe.runIf(runs)("fan-out and store cost per applied command", { timeout: 60_000 }, () => {
  let redis: PrivateRedis;
  let admin: ReturnType<typeof createClient>;
  const prefix = `attune-fanout:${randomBytes(4).toString("hex")}:`;
  const servers: RunningAttune[] = [];
  const stores: CountingStore[] = [];
  const open: Participant[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = createClient({ url: redis.url });
    admin.on("error", () => {});
    await admin.connect();
  });

  afterEach(async () => {
    for (const p of open.splice(0)) p.close();
    for (const s of servers.splice(0)) await s.close();
    for (const s of stores.splice(0)) await s.close();
  });

  afterAll(async () => {
    if (admin?.isOpen) await admin.close();
    await redis?.dispose();
  });

  async function server(sessionCacheSize?: number): Promise<{ server: RunningAttune; store: CountingStore }> {
    const store = new CountingStore(await RedisStore.connect({ url: redis.url, prefix }));
    stores.push(store);
    const config = {
      ...loadConfig({}),
      host: "127.0.0.1",
      port: 0,
      logLevel: "silent" as const,
      redisUrl: redis.url,
      redisPrefix: prefix,
      commandRate: 1000,
    };
    // A short peer re-count, so a process finds out it is alone (or not) within the test's first moments.
    const running = await startAttune({
      config,
      store,
      logger: silentLogger(),
      peerRefreshMs: 100,
      sessionCacheSize,
    });
    servers.push(running);
    return { server: running, store };
  }

  /** Redis calls per command name since the last reset (scripts' inner calls included, which is fine here). */
  async function calls(): Promise<Record<string, number>> {
    const info = await admin.info("commandstats");
    const out: Record<string, number> = {};
    for (const m of info.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
    return out;
  }

  async function pair(first: RunningAttune, second: RunningAttune) {
    const created = await createTestSession(first.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
    });
    const a = await Participant.join(created.links.a);
    open.push(a);
    const b = await Participant.join(via(second, created.links.b));
    open.push(b);
    const both = (v: SessionView) => v.presence.a && v.presence.b;
    await Promise.all([a.waitFor(both), b.waitFor(both)]);
    await Promise.all([a.waitForVersion(b.version), b.waitForVersion(a.version)]);
    const start = await a.send({ type: "start-exercise" });
    if (!start.ok) throw new Error(`start refused: ${start.error.code}`);
    await Promise.all([a.waitForVersion(start.version), b.waitForVersion(start.version)]);
    return { a, b };
  }

  /** Every update a seat receives, as [version, its size in bytes, how: an update event or its own ack]. */
  function recordUpdates(p: Participant): [number, number, "event" | "ack"][] {
    const seen: [number, number, "event" | "ack"][] = [];
    p.on("update", (m, via) => seen.push([m.version, JSON.stringify(m).length, via]));
    return seen;
  }

  /** The versions a seat's own moves made came in its acks, every other one as an update event: one frame each. */
  function expectOwnInAck(
    seen: [number, number, "event" | "ack"][],
    moves: { seat: string; version: number }[],
    seat: string,
  ) {
    const own = new Set(moves.filter((m) => m.seat === seat).map((m) => m.version));
    expect(own.size).toBeGreaterThan(0);
    for (const [version, , via] of seen) expect(via, `v${version} to ${seat}`).toBe(own.has(version) ? "ack" : "event");
  }

  /** The view a participant built from updates is exactly a fresh snapshot of its own seat. */
  async function expectViewsCurrent(...participants: Participant[]): Promise<void> {
    for (const p of participants) {
      const held = p.view;
      const fresh = await p.resync();
      expect(fresh.you.seat).toBe(held.you.seat);
      expect(held).toEqual(fresh);
    }
  }

  it("one process: each applied command is one store round trip and writes nothing to the adapter", async () => {
    const { server: only, store } = await server();
    // Until its first peer count (after peerRefreshMs = 100 ms) a process publishes to be safe; let that pass.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { a, b } = await pair(only, only);
    const from = a.version;
    const seenA = recordUpdates(a);
    const seenB = recordUpdates(b);
    store.reset();
    await admin.configResetStat();
    const started = Date.now();

    const moves = await playToEnd(a, b);
    const elapsed = Date.now() - started;
    const stats = await calls();

    expect(moves.length).toBeGreaterThan(5);
    // The service applied every command to the record it had stored last: no load, one compare-and-set each.
    expect(store.loads).toBe(0);
    expect(store.updates).toBe(moves.length);
    expect(store.conflicts).toBe(0);
    // Alone, the process tells no one else: at most the adapter's own heartbeat (one per 2 s) reaches Redis.
    expect(stats.publish ?? 0).toBe(0);
    expect(stats.xadd ?? 0).toBeLessThanOrEqual(Math.ceil(elapsed / 2000) + 1);
    // Each socket still got every version exactly once, and only its own seat's view.
    const last = a.version;
    const expected = Array.from({ length: last - from }, (_, i) => from + 1 + i);
    expect(seenA.map(([v]) => v)).toEqual(expected);
    expect(seenB.map(([v]) => v)).toEqual(expected);
    expectOwnInAck(seenA, moves, "a");
    expectOwnInAck(seenB, moves, "b");
    await expectViewsCurrent(a, b);
  });

  it("two processes: one adapter message and one store round trip per applied command, own views only", async () => {
    const one = await server();
    const two = await server();
    const { a, b } = await pair(one.server, two.server);
    const from = a.version;
    const seenA = recordUpdates(a);
    const seenB = recordUpdates(b);
    one.store.reset();
    two.store.reset();
    await admin.configResetStat();

    const moves = await playToEnd(a, b);
    const stats = await calls();
    const last = Math.max(...moves.map((m) => m.version));
    await Promise.all([a.waitForVersion(last), b.waitForVersion(last)]);

    expect(new Set(moves.map((m) => m.seat))).toEqual(new Set(["a", "b"]));
    // One server-side message per applied command at most (it was one per seat before).
    expect(stats.publish ?? 0).toBeGreaterThan(0);
    expect(stats.publish ?? 0).toBeLessThanOrEqual(moves.length);
    // The commit message keeps the other process's record current too: one compare-and-set per move, no load,
    // though every move of one partner follows a move applied on the other process.
    expect(one.store.updates + two.store.updates).toBe(moves.length);
    expect(one.store.conflicts + two.store.conflicts).toBe(0);
    expect(one.store.loads + two.store.loads).toBe(0);
    const expected = Array.from({ length: last - from }, (_, i) => from + 1 + i);
    expect(seenA.map(([v]) => v)).toEqual(expected);
    expect(seenB.map(([v]) => v)).toEqual(expected);
    expectOwnInAck(seenA, moves, "a");
    expectOwnInAck(seenB, moves, "b");
    await expectViewsCurrent(a, b);
    // Typed text travels process to process but is never written into the adapter's stream.
    const said = a.view.transcript.filter((t) => t.kind === "say").map((t) => t.text);
    expect(said.length).toBeGreaterThan(0);
    const stream = JSON.stringify(await admin.xRange(adapterStreamName(prefix), "-", "+"));
    for (const text of said) expect(stream).not.toContain(text);
  });

  it("the record cache is bounded: sessions beyond its size are loaded again", async () => {
    const loadsWith = async (size: number | undefined) => {
      const { server: only, store } = await server(size);
      const x = await pair(only, only);
      const y = await pair(only, only);
      store.reset();
      // Two sessions played at once interleave their commands.
      const moves = await Promise.all([playToEnd(x.a, x.b), playToEnd(y.a, y.b)]);
      return { loads: store.loads, moves: moves[0].length + moves[1].length, updates: store.updates };
    };
    const roomy = await loadsWith(undefined);
    expect(roomy.loads).toBe(0);
    expect(roomy.updates).toBe(roomy.moves);
    // Room for one session only: each switch to the other session evicts it, and its next command loads.
    const tight = await loadsWith(1);
    expect(tight.loads).toBeGreaterThan(0);
    expect(tight.updates).toBe(tight.moves);
  });
});
