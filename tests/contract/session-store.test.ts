/**
 * One contract for every SessionStore: the same tests run against MemoryStore and RedisStore.
 * Redis runs use a unique key prefix and remove their own keys; the shared Redis is never flushed.
 */
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { coreOf, createSession } from "../../shared/engine.ts";
import type { Appended, LogEntry, SessionState, TranscriptEntry } from "../../shared/protocol.ts";
import { findExercise } from "../../shared/catalogue/index.ts";
import { createStore } from "../../server/store/index.ts";
import { MemoryStore } from "../../server/store/memory.ts";
import { RedisStore } from "../../server/store/redis.ts";
import type {
  NodeRegistry,
  SeatLink,
  SessionChange,
  SessionRecord,
  SessionStore,
  WorkingRecord,
} from "../../server/store/types.ts";
import { RECENT_COMMANDS } from "../../server/store/types.ts";
import { type LocalCluster, startRedisCluster } from "../../scripts/lib/redis-cluster.ts";
import { clusterToolsAvailable, REDIS_URL, redisAvailable, requireService } from "../support/env.ts";
import { freePort, startRedisServer } from "../support/redis-server.ts";

const redisUp = requireService("Redis (RedisStore contract suite)", await redisAvailable());
const clusterUp = requireService("redis-server and redis-cli (Redis Cluster contract suite)", clusterToolsAvailable());
const RUN = randomBytes(4).toString("hex");
const TTL_OUTAGE = 60_000;

function uid(label: string): string {
  return `${label}-${randomBytes(6).toString("hex")}`;
}

/** A real engine state (so the stores see what they will hold), at any version. */
function stateOf(id: string, version = 0): SessionState {
  const state = createSession({
    id,
    mode: "guided",
    channel: "typed",
    agenda: ["intentional-dialogue"],
    names: { a: "Robin", b: "Sam" },
    createdAt: 1_700_000_000_000,
  });
  return { ...state, version };
}

function recordOf(id: string, version = 0): SessionRecord {
  return { state: stateOf(id, version), recentCommands: [] };
}

const AT = 1_700_000_000_000;

/**
 * One applied command on `prev`, as the service would store it: the change (next core, the entries it appended,
 * its log entry and ack), and the whole record it leads to (what load must then return).
 */
function step(
  prev: SessionRecord,
  text: string,
  extra: Partial<Pick<Appended, "nudges" | "notes" | "custom">> = {},
): { change: SessionChange; next: SessionRecord } {
  const v = prev.state.version + 1;
  const said: TranscriptEntry = { v, at: AT, seat: "a", kind: "say", text };
  const appended: Appended = { transcript: [said], ...extra };
  const core = { ...coreOf(prev.state), version: v };
  if (extra.custom) core.custom = [...core.custom, ...extra.custom];
  const recent = { id: `a:cmd-${v}-${text.slice(0, 20)}`, ack: { ok: true as const, version: v } };
  const entry: LogEntry = { v, at: AT, actor: "a", command: { type: "post", text } };
  const state: SessionState = {
    ...prev.state,
    ...core,
    transcript: [...prev.state.transcript, said],
    nudges: [...prev.state.nudges, ...(extra.nudges ?? [])],
    notes: [...prev.state.notes, ...(extra.notes ?? [])],
  };
  const recentCommands = [...prev.recentCommands, recent].slice(-RECENT_COMMANDS);
  return { change: { core, appended, entry, recent }, next: { state, recentCommands } };
}

/** What loadWorking must return for a record. */
function workingOf(record: SessionRecord): WorkingRecord {
  return { core: coreOf(record.state), recentCommands: record.recentCommands };
}

function linksFor(id: string): SeatLink[] {
  return [
    { seat: "a", tokenHash: `${id}-hash-a` },
    { seat: "b", tokenHash: `${id}-hash-b` },
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Harness {
  /** A store; for Redis every call opens a separate client, so two stores race like two processes. */
  open(): Promise<SessionStore>;
  /** Redis only: every key the store holds for this harness, with its PTTL. */
  keys?(): Promise<Map<string, number>>;
  cleanup(): Promise<void>;
}

function memoryHarness(): Harness {
  // One process has one memory store: "another client" is the same instance.
  let store: MemoryStore | undefined;
  return {
    async open() {
      store ??= new MemoryStore({ sweepIntervalMs: 50 });
      return store;
    },
    async cleanup() {
      await store?.close();
    },
  };
}

function redisHarness(): Harness {
  const prefix = `attune-test:${RUN}:contract:`;
  const admin = createClient({ url: REDIS_URL });
  admin.on("error", () => {});
  const opened: SessionStore[] = [];
  const scan = async (): Promise<string[]> => {
    if (!admin.isOpen) await admin.connect();
    const found: string[] = [];
    for await (const batch of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 200 })) found.push(...batch);
    return found;
  };
  return {
    async open() {
      const store = await RedisStore.connect({ url: REDIS_URL, prefix });
      opened.push(store);
      return store;
    },
    async keys() {
      const result = new Map<string, number>();
      for (const key of await scan()) result.set(key, await admin.pTTL(key));
      return result;
    },
    async cleanup() {
      for (const store of opened) await store.close();
      const left = await scan();
      if (left.length > 0) await admin.del(left);
      await admin.close();
    },
  };
}

function adminClient(url: string) {
  const admin = createClient({ url });
  admin.on("error", () => {});
  return admin;
}

/** RedisStore on a real local Redis Cluster of three masters, started for this suite. */
function clusterHarness(): Harness {
  const prefix = `attune-test:${RUN}:cluster:`;
  let cluster: LocalCluster | undefined;
  const opened: SessionStore[] = [];
  const admins: ReturnType<typeof adminClient>[] = [];
  const scan = async (): Promise<Map<string, number>> => {
    const found = new Map<string, number>();
    for (const admin of admins) {
      for await (const batch of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 200 })) {
        for (const key of batch) found.set(key, await admin.pTTL(key));
      }
    }
    return found;
  };
  return {
    async open() {
      if (!cluster) {
        cluster = await startRedisCluster(3);
        for (const url of cluster.urls) {
          const admin = adminClient(url);
          await admin.connect();
          admins.push(admin);
        }
      }
      const store = await RedisStore.connect({ clusterNodes: cluster.urls, prefix });
      opened.push(store);
      return store;
    },
    keys: scan,
    async cleanup() {
      for (const store of opened) await store.close();
      for (const admin of admins) await admin.close();
      await cluster?.dispose();
    },
  };
}

const harnesses: { name: string; make: () => Harness; enabled: boolean }[] = [
  { name: "MemoryStore", make: memoryHarness, enabled: true },
  { name: "RedisStore", make: redisHarness, enabled: redisUp },
  { name: "RedisStore on a Redis Cluster", make: clusterHarness, enabled: clusterUp },
];

describe.each(harnesses)("SessionStore contract: $name", ({ make, enabled }) => {
  let harness: Harness;
  let store: SessionStore;
  const TTL = 60_000;

  beforeAll(async () => {
    if (!enabled) return;
    harness = make();
    store = await harness.open();
  });
  afterAll(async () => {
    if (enabled) await harness.cleanup();
  });

  /** Keys belonging to one session (Redis), with their PTTLs. */
  async function sessionKeys(id: string): Promise<Map<string, number>> {
    const all = (await harness.keys?.()) ?? new Map<string, number>();
    return new Map([...all].filter(([key]) => key.includes(id)));
  }

  /** Creates a session and applies `texts` one by one; returns the record it must hold. */
  async function played(id: string, texts: string[], ttl = TTL): Promise<SessionRecord> {
    let record = recordOf(id);
    await store.create(record, linksFor(id), ttl);
    for (const text of texts) {
      const { change, next } = step(record, text);
      expect((await store.update(id, record.state.version, change, ttl)).status).toBe("ok");
      record = next;
    }
    return record;
  }

  it.skipIf(!enabled)("create then load returns an equal record, and loadWorking its core", async () => {
    const id = uid("round");
    const record = step(recordOf(id), "hello").next;
    await store.create(record, linksFor(id), TTL);
    expect(await store.load(id)).toEqual(record);
    expect(await store.loadWorking(id)).toEqual(workingOf(record));
    expect(await store.loadLog(id)).toEqual([]);
  });

  it.skipIf(!enabled)("unknown ids and tokens are absent, not errors", async () => {
    expect(await store.load(uid("nobody"))).toBeNull();
    expect(await store.loadWorking(uid("nobody"))).toBeNull();
    expect(await store.loadLog(uid("nobody"))).toBeNull();
    expect(await store.findSeat(uid("nobody"), uid("no-token"))).toBeNull();
    expect(await store.ttl(uid("nobody"))).toBeNull();
    expect(await store.revokeSeat(uid("nobody"), "a")).toBe(false);
    await expect(store.delete(uid("nobody"))).resolves.toBeUndefined();
  });

  it.skipIf(!enabled)("create refuses an id that is already live and leaves it as it was", async () => {
    const id = uid("dup");
    const record = recordOf(id);
    await store.create(record, linksFor(id), TTL);
    const other = step(recordOf(id), "intruder").next;
    await expect(store.create(other, [{ seat: "a", tokenHash: uid("other") }], TTL)).rejects.toThrow(/exists/);
    expect(await store.load(id)).toEqual(record);
    expect(await store.findSeat(id, `${id}-hash-a`)).toEqual({ sessionId: id, seat: "a", revoked: false });
  });

  it.skipIf(!enabled)("create refuses a non-positive ttl and stores nothing", async () => {
    const id = uid("bad-ttl");
    await expect(store.create(recordOf(id), linksFor(id), 0)).rejects.toThrow(RangeError);
    await expect(store.create(recordOf(id), linksFor(id), Number.NaN)).rejects.toThrow(RangeError);
    expect(await store.load(id)).toBeNull();
    expect(await store.findSeat(id, `${id}-hash-a`)).toBeNull();
  });

  it.skipIf(!enabled)("a token resolves only within its own session", async () => {
    const one = uid("one");
    const two = uid("two");
    await store.create(recordOf(one), linksFor(one), TTL);
    await store.create(recordOf(two), linksFor(two), TTL);
    expect(await store.findSeat(one, `${one}-hash-a`)).toEqual({ sessionId: one, seat: "a", revoked: false });
    expect(await store.findSeat(two, `${one}-hash-a`)).toBeNull();
  });

  it.skipIf(!enabled)("update with the stored version appends the change; load returns the whole record", async () => {
    const id = uid("cas-ok");
    const first = recordOf(id);
    await store.create(first, linksFor(id), TTL);
    const one = step(first, "one");
    expect((await store.update(id, 0, one.change, TTL)).status).toBe("ok");
    expect(await store.load(id)).toEqual(one.next);
    const two = step(one.next, "two");
    expect((await store.update(id, 1, two.change, TTL)).status).toBe("ok");
    expect(await store.load(id)).toEqual(two.next);
    expect(await store.loadWorking(id)).toEqual(workingOf(two.next));
    expect(await store.loadLog(id)).toEqual([one.change.entry, two.change.entry]);
  });

  it.skipIf(!enabled)("entries of every list come back in order, each in its own list", async () => {
    const id = uid("lists");
    let record = recordOf(id);
    await store.create(record, linksFor(id), TTL);
    for (let i = 1; i <= 12; i++) {
      const extra =
        i % 3 === 0
          ? { nudges: [{ v: record.state.version + 1, at: AT, to: "b" as const, text: `nudge ${i}` }] }
          : i % 4 === 0
            ? { notes: [{ v: record.state.version + 1, at: AT, text: `note ${i}` }] }
            : {};
      const { change, next } = step(record, `line ${i}`, extra);
      expect((await store.update(id, record.state.version, change, TTL)).status).toBe("ok");
      record = next;
    }
    const loaded = await store.load(id);
    expect(loaded).toEqual(record);
    expect(loaded?.state.transcript.map((t) => t.text)).toEqual(Array.from({ length: 12 }, (_, i) => `line ${i + 1}`));
    expect(loaded?.state.nudges.map((n) => n.text)).toEqual(["nudge 3", "nudge 6", "nudge 9", "nudge 12"]);
    expect(loaded?.state.notes.map((n) => n.text)).toEqual(["note 4", "note 8"]);
  });

  it.skipIf(!enabled)("uploaded exercises are appended once and come back in the core", async () => {
    const id = uid("custom");
    const first = recordOf(id);
    await store.create(first, linksFor(id), TTL);
    const definition = { ...findExercise("check-in")!, id: "my-check-in", title: "My check-in" };
    const upload = step(first, "upload", { custom: [definition] });
    expect((await store.update(id, 0, upload.change, TTL)).status).toBe("ok");
    const after = step(upload.next, "after");
    expect((await store.update(id, 1, after.change, TTL)).status).toBe("ok");
    expect((await store.loadWorking(id))?.core.custom).toEqual([definition]);
    expect((await store.load(id))?.state.custom).toEqual([definition]);
  });

  it.skipIf(!enabled)("what a command rewrites does not grow with the conversation", async () => {
    const id = uid("flat");
    const long = "a long typed line that the couple wrote. ".repeat(40);
    const record = await played(
      id,
      Array.from({ length: 150 }, (_, i) => `${i} ${long}`),
    );
    const working = await store.loadWorking(id);
    expect(working).toEqual(workingOf(record));
    // The working record (all a command reads and rewrites) holds no conversation, whatever its length.
    const json = JSON.stringify(working);
    expect(json).not.toContain(long.trim());
    expect(json.length).toBeLessThan(JSON.stringify(workingOf(recordOf(id))).length + 12_000);
    expect((await store.load(id))?.state.transcript).toHaveLength(150);
  });

  it.skipIf(!enabled)("the recent acks are bounded: the oldest are dropped first", async () => {
    const id = uid("recent");
    const record = await played(
      id,
      Array.from({ length: RECENT_COMMANDS + 15 }, (_, i) => `r${i}`),
    );
    const working = await store.loadWorking(id);
    expect(working?.recentCommands).toHaveLength(RECENT_COMMANDS);
    expect(working?.recentCommands).toEqual(record.recentCommands);
    expect(working?.recentCommands[0]?.ack).toEqual({ ok: true, version: 16 });
  });

  it.skipIf(!enabled)("update with a stale version is a conflict and writes nothing", async () => {
    const id = uid("cas-stale");
    const first = recordOf(id);
    await store.create(first, linksFor(id), TTL);
    const one = step(first, "one");
    expect((await store.update(id, 0, one.change, TTL)).status).toBe("ok");
    expect((await store.update(id, 0, step(first, "late").change, TTL)).status).toBe("conflict");
    expect((await store.update(id, 7, step(first, "future").change, TTL)).status).toBe("conflict");
    expect(await store.load(id)).toEqual(one.next);
    expect(await store.loadLog(id)).toEqual([one.change.entry]);
  });

  it.skipIf(!enabled)("update of an unknown session is missing and creates nothing", async () => {
    const id = uid("cas-missing");
    expect((await store.update(id, 0, step(recordOf(id), "x").change, TTL)).status).toBe("missing");
    expect(await store.load(id)).toBeNull();
    expect(await store.ttl(id)).toBeNull();
    if (harness.keys) expect((await sessionKeys(id)).size).toBe(0);
  });

  it.skipIf(!enabled)("updates racing from one version: exactly one wins", async () => {
    const id = uid("race");
    const base = recordOf(id);
    await store.create(base, linksFor(id), TTL);
    const other = await harness.open();
    const racers = Array.from({ length: 24 }, (_, i) => {
      const via = i % 2 === 0 ? store : other;
      return via.update(id, 0, step(base, `racer-${i}`).change, TTL);
    });
    const results = (await Promise.all(racers)).map((r) => r.status);
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "conflict")).toHaveLength(23);
    const winner = results.indexOf("ok");
    const stored = await store.load(id);
    expect(stored?.state.version).toBe(1);
    expect(stored?.state.transcript.map((t) => t.text)).toEqual([`racer-${winner}`]);
    expect(await store.loadLog(id)).toHaveLength(1);
  });

  it.skipIf(!enabled)("a conflict answers the stored working record, which a retry can build on", async () => {
    const id = uid("cas-current");
    const first = recordOf(id);
    await store.create(first, linksFor(id), TTL);
    const one = step(first, "one");
    expect((await store.update(id, 0, one.change, TTL)).status).toBe("ok");
    const lost = await store.update(id, 0, step(first, "late").change, TTL);
    expect(lost.status).toBe("conflict");
    if (lost.status !== "conflict") return;
    expect(lost.current).toEqual(workingOf(one.next));
    // The returned record is a copy: changing it must not touch what is stored.
    lost.current.core.version = 99;
    expect(await store.load(id)).toEqual(one.next);
    const two = step(one.next, "two");
    expect((await store.update(id, one.next.state.version, two.change, TTL)).status).toBe("ok");
    expect(await store.load(id)).toEqual(two.next);
  });

  it.skipIf(!enabled)("writers that retry on the record a conflict answers lose no update", async () => {
    const id = uid("retry-current");
    await store.create(recordOf(id), linksFor(id), TTL);
    const other = await harness.open();
    const writers = 6;
    const perWriter = 5;
    let conflicts = 0;
    const writer = async (w: number, via: SessionStore) => {
      let current = await via.loadWorking(id);
      for (let n = 0; n < perWriter; n++) {
        for (;;) {
          if (!current) throw new Error("session vanished");
          const base: SessionRecord = {
            state: { ...stateOf(id), ...current.core },
            recentCommands: current.recentCommands,
          };
          const { change } = step(base, `w${w}-${n}`);
          const result = await via.update(id, current.core.version, change, TTL);
          if (result.status === "ok") {
            current = { core: change.core, recentCommands: [...current.recentCommands, change.recent!] };
            break;
          }
          if (result.status !== "conflict") throw new Error(`unexpected ${result.status}`);
          conflicts++;
          current = result.current;
        }
      }
    };
    await Promise.all(Array.from({ length: writers }, (_, w) => writer(w, w % 2 === 0 ? store : other)));
    const final = await store.load(id);
    expect(final?.state.version).toBe(writers * perWriter);
    expect(final?.state.transcript.map((t) => t.v)).toEqual(
      Array.from({ length: writers * perWriter }, (_, i) => i + 1),
    );
    expect(new Set(final?.state.transcript.map((t) => t.text)).size).toBe(writers * perWriter);
    expect((await store.loadLog(id))?.map((e) => e.v)).toEqual(
      Array.from({ length: writers * perWriter }, (_, i) => i + 1),
    );
    // The writers load before any of them writes, so the retry path (the answered record) was exercised.
    expect(conflicts).toBeGreaterThan(0);
  });

  it.skipIf(!enabled)("findSeat resolves each link; revokeSeat revokes one seat only", async () => {
    const id = uid("seats");
    const therapistHash = `${id}-hash-t`;
    await store.create(recordOf(id), [...linksFor(id), { seat: "therapist", tokenHash: therapistHash }], TTL);
    expect(await store.findSeat(id, `${id}-hash-a`)).toEqual({ sessionId: id, seat: "a", revoked: false });
    expect(await store.findSeat(id, `${id}-hash-b`)).toEqual({ sessionId: id, seat: "b", revoked: false });
    expect(await store.findSeat(id, therapistHash)).toEqual({ sessionId: id, seat: "therapist", revoked: false });

    expect(await store.revokeSeat(id, "b")).toBe(true);
    expect(await store.findSeat(id, `${id}-hash-b`)).toEqual({ sessionId: id, seat: "b", revoked: true });
    expect(await store.findSeat(id, `${id}-hash-a`)).toEqual({ sessionId: id, seat: "a", revoked: false });
    expect(await store.findSeat(id, therapistHash)).toEqual({ sessionId: id, seat: "therapist", revoked: false });
    // Revoking twice is harmless; the session itself is untouched.
    expect(await store.revokeSeat(id, "b")).toBe(true);
    expect(await store.load(id)).toEqual(recordOf(id));
  });

  it.skipIf(!enabled)("revokeSeat of a seat without a link changes nothing", async () => {
    const id = uid("no-therapist");
    await store.create(recordOf(id), linksFor(id), TTL);
    expect(await store.revokeSeat(id, "therapist")).toBe(false);
    expect(await store.findSeat(id, `${id}-hash-a`)).toEqual({ sessionId: id, seat: "a", revoked: false });
  });

  it.skipIf(!enabled)("a revoked link survives updates and keeps its TTL", async () => {
    const id = uid("revoked-ttl");
    await store.create(recordOf(id), linksFor(id), TTL);
    await store.revokeSeat(id, "a");
    expect((await store.update(id, 0, step(recordOf(id), "after").change, TTL)).status).toBe("ok");
    expect(await store.findSeat(id, `${id}-hash-a`)).toEqual({ sessionId: id, seat: "a", revoked: true });
    if (harness.keys) {
      for (const [key, pttl] of await sessionKeys(id)) expect(pttl, key).toBeGreaterThan(0);
    }
  });

  it.skipIf(!enabled)("reissueSeat gives a seat a fresh link; every older link of it reports revoked", async () => {
    const id = uid("reissue");
    await store.create(recordOf(id), linksFor(id), 5_000);
    // Reissuing without a prior revoke still retires the old link.
    expect(await store.reissueSeat(id, "a", `${id}-hash-a2`)).toBe(true);
    expect(await store.findSeat(id, `${id}-hash-a`)).toEqual({ sessionId: id, seat: "a", revoked: true });
    expect(await store.findSeat(id, `${id}-hash-a2`)).toEqual({ sessionId: id, seat: "a", revoked: false });
    // Revoke, then reissue again: the newest works, both older ones stay revoked.
    expect(await store.revokeSeat(id, "a")).toBe(true);
    expect(await store.findSeat(id, `${id}-hash-a2`)).toEqual({ sessionId: id, seat: "a", revoked: true });
    expect(await store.reissueSeat(id, "a", `${id}-hash-a3`)).toBe(true);
    expect(await store.findSeat(id, `${id}-hash-a3`)).toEqual({ sessionId: id, seat: "a", revoked: false });
    expect(await store.findSeat(id, `${id}-hash-a`)).toEqual({ sessionId: id, seat: "a", revoked: true });
    expect(await store.findSeat(id, `${id}-hash-a2`)).toEqual({ sessionId: id, seat: "a", revoked: true });
    expect(await store.findSeat(id, `${id}-hash-b`)).toEqual({ sessionId: id, seat: "b", revoked: false });
    // A hash already in use is refused and changes nothing.
    await expect(store.reissueSeat(id, "a", `${id}-hash-b`)).rejects.toThrow(/in use/);
    expect(await store.findSeat(id, `${id}-hash-a3`)).toEqual({ sessionId: id, seat: "a", revoked: false });
    expect(await store.findSeat(id, `${id}-hash-b`)).toEqual({ sessionId: id, seat: "b", revoked: false });
    // Unknown session, or a seat that never had a link: nothing to reissue.
    expect(await store.reissueSeat(uid("nobody"), "a", uid("h"))).toBe(false);
    expect(await store.reissueSeat(id, "therapist", `${id}-hash-t`)).toBe(false);
    expect(await store.findSeat(id, `${id}-hash-t`)).toBeNull();

    if (harness.keys) {
      for (const [key, pttl] of await sessionKeys(id)) {
        expect(pttl, key).toBeGreaterThan(0);
        expect(pttl, key).toBeLessThanOrEqual(5_000);
      }
    }
    expect((await store.update(id, 0, step(recordOf(id), "renew").change, 120_000)).status).toBe("ok");
    if (harness.keys) {
      for (const [key, pttl] of await sessionKeys(id)) expect(pttl, key).toBeGreaterThan(100_000);
    }
    await store.delete(id);
    for (const suffix of ["a", "a2", "a3", "b"]) expect(await store.findSeat(id, `${id}-hash-${suffix}`)).toBeNull();
    if (harness.keys) expect([...(await sessionKeys(id)).keys()]).toEqual([]);
  });

  it.skipIf(!enabled)("reissued links expire with the session", async () => {
    const id = uid("reissue-expire");
    await store.create(recordOf(id), linksFor(id), 250);
    expect(await store.reissueSeat(id, "b", `${id}-hash-b2`)).toBe(true);
    await sleep(350);
    expect(await store.findSeat(id, `${id}-hash-b2`)).toBeNull();
    expect(await store.findSeat(id, `${id}-hash-b`)).toBeNull();
    if (harness.keys) expect([...(await sessionKeys(id)).keys()]).toEqual([]);
  });

  it.skipIf(!enabled)("delete erases the session, its lists, its log and every token lookup", async () => {
    const id = uid("erase");
    await played(id, ["one", "two", "three"]);
    await store.revokeSeat(id, "a");
    await store.delete(id);
    expect(await store.load(id)).toBeNull();
    expect(await store.loadWorking(id)).toBeNull();
    expect(await store.loadLog(id)).toBeNull();
    expect(await store.findSeat(id, `${id}-hash-a`)).toBeNull();
    expect(await store.findSeat(id, `${id}-hash-b`)).toBeNull();
    expect(await store.ttl(id)).toBeNull();
    expect((await store.update(id, 3, step(recordOf(id, 3), "ghost").change, TTL)).status).toBe("missing");
    expect(await store.revokeSeat(id, "b")).toBe(false);
    if (harness.keys) expect([...(await sessionKeys(id)).keys()]).toEqual([]);
  });

  it.skipIf(!enabled)("every key of a session has a TTL, and update renews them all together", async () => {
    const id = uid("ttl");
    await played(id, ["first"], 5_000);
    const ttl = await store.ttl(id);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5_000);
    if (harness.keys) {
      const keys = await sessionKeys(id);
      // state, conversation, log, recent acks, links: one slot of one session (no uploaded exercises yet)
      expect(keys.size).toBe(5);
      for (const [key, pttl] of keys) {
        expect(key, "every key carries the session's hash tag").toContain(`{${id}}`);
        expect(pttl, key).toBeGreaterThan(0);
        expect(pttl, key).toBeLessThanOrEqual(5_000);
      }
    }
    const record = (await store.load(id))!;
    expect((await store.update(id, 1, step(record, "renew").change, 120_000)).status).toBe("ok");
    expect(await store.ttl(id)).toBeGreaterThan(100_000);
    if (harness.keys) {
      const keys = await sessionKeys(id);
      expect(keys.size).toBe(5);
      for (const [key, pttl] of keys) expect(pttl, key).toBeGreaterThan(100_000);
    }
  });

  it.skipIf(!enabled)("a conflicting update does not renew the TTL", async () => {
    const id = uid("ttl-conflict");
    await store.create(recordOf(id), linksFor(id), 5_000);
    expect((await store.update(id, 3, step(recordOf(id), "stale").change, 120_000)).status).toBe("conflict");
    expect(await store.ttl(id)).toBeLessThanOrEqual(5_000);
  });

  it.skipIf(!enabled)("an expired session is gone: load, tokens, update, ttl", async () => {
    const id = uid("expire");
    await played(id, ["soon gone"], 200);
    expect(await store.findSeat(id, `${id}-hash-a`)).not.toBeNull();
    await sleep(300);
    expect(await store.load(id)).toBeNull();
    expect(await store.loadWorking(id)).toBeNull();
    expect(await store.loadLog(id)).toBeNull();
    expect(await store.findSeat(id, `${id}-hash-a`)).toBeNull();
    expect(await store.findSeat(id, `${id}-hash-b`)).toBeNull();
    expect(await store.ttl(id)).toBeNull();
    expect((await store.update(id, 1, step(recordOf(id, 1), "late").change, TTL)).status).toBe("missing");
    if (harness.keys) expect([...(await sessionKeys(id)).keys()]).toEqual([]);
    // The id is free again, with fresh links and an empty conversation.
    await store.create(recordOf(id), [{ seat: "a", tokenHash: `${id}-new-a` }], TTL);
    expect(await store.findSeat(id, `${id}-new-a`)).toEqual({ sessionId: id, seat: "a", revoked: false });
    expect(await store.findSeat(id, `${id}-hash-a`)).toBeNull();
    expect(await store.load(id)).toEqual(recordOf(id));
    expect(await store.loadLog(id)).toEqual([]);
  });

  it.skipIf(!enabled)("an update keeps a session alive past its first ttl", async () => {
    const id = uid("keepalive");
    // Wide margins: on a loaded machine a cluster round trip can take a good part of a short TTL.
    await store.create(recordOf(id), linksFor(id), 1500);
    await sleep(600);
    expect((await store.update(id, 0, step(recordOf(id), "still here").change, 4000)).status).toBe("ok");
    await sleep(1400);
    expect((await store.load(id))?.state.version).toBe(1);
    expect(await store.findSeat(id, `${id}-hash-b`)).toEqual({ sessionId: id, seat: "b", revoked: false });
  });

  it.skipIf(!enabled)("records are copies: mutating what went in or came out changes nothing stored", async () => {
    const id = uid("copies");
    const record = recordOf(id);
    await store.create(record, linksFor(id), TTL);
    record.state.phase = "ended";
    record.state.names.a = "changed";
    const loaded = await store.load(id);
    expect(loaded?.state.phase).toBe("lobby");
    loaded!.state.transcript.push({ v: 9, at: 0, seat: "b", kind: "say", text: "sneaky" });
    expect((await store.load(id))?.state.transcript).toEqual([]);

    const { change } = step(recordOf(id), "kept");
    expect((await store.update(id, 0, change, TTL)).status).toBe("ok");
    change.appended.transcript![0]!.text = "rewritten";
    change.core.phase = "ended";
    expect((await store.load(id))?.state.transcript[0]?.text).toBe("kept");
    expect((await store.loadWorking(id))?.core.phase).toBe("lobby");
  });

  it.skipIf(!enabled)("ping answers true while the backing service is up", async () => {
    expect(await store.ping()).toBe(true);
  });
});

describe.each(harnesses)("NodeRegistry contract: $name", ({ make, enabled }) => {
  let harness: Harness;
  let registry: NodeRegistry;

  beforeAll(async () => {
    if (!enabled) return;
    harness = make();
    registry = (await harness.open()).nodeRegistry();
  });
  afterAll(async () => {
    if (enabled) await harness.cleanup();
  });

  const mine = (node: string) => async () => (await registry.orphans()).find((o) => o.node === node);

  it.skipIf(!enabled)(
    "a node that beats is no orphan; one whose beat lapsed is, with the seats it claimed",
    async () => {
      const node = uid("node");
      expect(await registry.beat(node, 300, 60_000)).toBe(false);
      expect(await registry.beat(node, 300, 60_000)).toBe(true);
      await registry.claim(node, { sessionId: "s1", seat: "a" });
      await registry.claim(node, { sessionId: "s2", seat: "therapist" });
      await registry.claim(node, { sessionId: "s1", seat: "a" });
      expect(await mine(node)()).toBeUndefined();
      await sleep(400);
      const orphan = await mine(node)();
      expect(orphan?.seats).toHaveLength(2);
      expect(orphan?.seats).toEqual(
        expect.arrayContaining([
          { sessionId: "s1", seat: "a" },
          { sessionId: "s2", seat: "therapist" },
        ]),
      );
      await registry.forget(node);
      expect(await mine(node)()).toBeUndefined();
      // Forgotten, the node's next beat says so (its claims are gone and must be made again).
      expect(await registry.beat(node, 300, 60_000)).toBe(false);
      await registry.forget(node);
    },
  );

  it.skipIf(!enabled)("a released seat is no longer claimed", async () => {
    const node = uid("node");
    await registry.beat(node, 200, 60_000);
    await registry.claim(node, { sessionId: "s1", seat: "a" });
    await registry.claim(node, { sessionId: "s1", seat: "b" });
    await registry.release(node, { sessionId: "s1", seat: "a" });
    await sleep(300);
    expect((await mine(node)())?.seats).toEqual([{ sessionId: "s1", seat: "b" }]);
    await registry.forget(node);
  });
});

describe("RedisStore key prefixes", () => {
  it.skipIf(!redisUp)("stores with different prefixes never see each other", async () => {
    const id = uid("isolated");
    const store = await RedisStore.connect({ url: REDIS_URL, prefix: `attune-test:${RUN}:here:` });
    const elsewhere = await RedisStore.connect({ url: REDIS_URL, prefix: `attune-test:${RUN}:elsewhere:` });
    try {
      await elsewhere.create(recordOf(id), linksFor(id), 2_000);
      expect(await store.load(id)).toBeNull();
      expect(await store.findSeat(id, `${id}-hash-a`)).toBeNull();
    } finally {
      await elsewhere.delete(id);
      await elsewhere.close();
      await store.close();
    }
  });
});

describe("RedisStore when Redis is unreachable", () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  let store: RedisStore | undefined;
  afterEach(async () => {
    // A server left stopped (SIGSTOP) by a failed test could neither answer the close nor take SIGTERM.
    redis?.signal("SIGCONT");
    await store?.close();
    store = undefined;
    await redis?.dispose();
    redis = undefined;
  });

  it("connect rejects with a clear error that never shows the password", async () => {
    const port = await freePort();
    const failure = await RedisStore.connect({ url: `redis://app:s3cret-pw@127.0.0.1:${port}` }).catch((e: Error) => e);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/unreachable/);
    expect((failure as Error).message).not.toContain("s3cret-pw");
  });

  it("connect rejects with a clear error when nothing listens", async () => {
    const port = await freePort();
    await expect(RedisStore.connect({ url: `redis://127.0.0.1:${port}`, prefix: "attune-test:" })).rejects.toThrow(
      /unreachable/,
    );
  });

  it.skipIf(!redisUp)("operations reject while Redis is down and work again once it is back", async () => {
    redis = await startRedisServer({ persist: true });
    const errors: Error[] = [];
    store = await RedisStore.connect({ url: redis.url, prefix: "attune-test:", onError: (e) => errors.push(e) });
    const id = uid("outage");
    await store.create(recordOf(id), linksFor(id), TTL_OUTAGE);

    await redis.stop("SIGKILL");
    const started = Date.now();
    await expect(store.load(id)).rejects.toThrow();
    await expect(store.update(id, 0, step(recordOf(id), "lost?").change, TTL_OUTAGE)).rejects.toThrow();
    await expect(store.findSeat(id, `${id}-hash-a`)).rejects.toThrow();
    await expect(store.create(recordOf(uid("x")), [], TTL_OUTAGE)).rejects.toThrow();
    expect(await store.ping()).toBe(false);
    // Rejections are prompt (no offline queue), and the connection loss was reported, not thrown.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(errors.length).toBeGreaterThan(0);

    await redis.restart();
    const deadline = Date.now() + 10_000;
    while (!(await store.ping())) {
      if (Date.now() > deadline) throw new Error("store did not reconnect");
      await sleep(50);
    }
    expect(await store.load(id)).toEqual(recordOf(id));
    expect((await store.update(id, 0, step(recordOf(id), "after").change, TTL_OUTAGE)).status).toBe("ok");
  });

  it.skipIf(!redisUp)("a Redis that stops answering makes commands time out instead of hanging", async () => {
    redis = await startRedisServer();
    store = await RedisStore.connect({ url: redis.url, prefix: "attune-test:", commandTimeoutMs: 300 });
    const id = uid("hang");
    await store.create(recordOf(id), linksFor(id), TTL_OUTAGE);
    redis.signal("SIGSTOP");
    try {
      const started = Date.now();
      await expect(store.load(id)).rejects.toThrow();
      expect(await store.ping()).toBe(false);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      redis.signal("SIGCONT");
    }
    // Once it answers again, so does the store (the version check still holds).
    expect((await store.update(id, 0, step(recordOf(id), "later").change, TTL_OUTAGE)).status).toBe("ok");
    expect((await store.update(id, 0, step(recordOf(id), "stale").change, TTL_OUTAGE)).status).toBe("conflict");
  });

  it.skipIf(!redisUp)("close() returns promptly while Redis is down, and the closed store refuses work", async () => {
    redis = await startRedisServer();
    const down = await RedisStore.connect({ url: redis.url, prefix: "attune-test:" });
    await redis.stop("SIGKILL");
    const started = Date.now();
    await down.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(down.load(uid("closed"))).rejects.toThrow();
    expect(await down.ping()).toBe(false);
  });
});

describe("createStore", () => {
  it("picks the embedded memory store when no Redis URL is configured", async () => {
    const store = await createStore({ redisPrefix: "attune:" });
    try {
      expect(store).toBeInstanceOf(MemoryStore);
      expect(await store.ping()).toBe(true);
    } finally {
      await store.close();
    }
  });

  it.skipIf(!redisUp)("picks RedisStore, with the configured prefix, when a Redis URL is configured", async () => {
    const prefix = `attune-test:${RUN}:factory:`;
    const store = await createStore({ redisUrl: REDIS_URL, redisPrefix: prefix });
    const id = uid("factory");
    try {
      expect(store).toBeInstanceOf(RedisStore);
      await store.create(recordOf(id), linksFor(id), 2_000);
      const admin = createClient({ url: REDIS_URL });
      admin.on("error", () => {});
      await admin.connect();
      expect(await admin.exists(`${prefix}s:{${id}}`)).toBe(1);
      await admin.close();
    } finally {
      await store.delete(id);
      await store.close();
    }
  });

  it("rejects when the configured Redis does not answer", async () => {
    const port = await freePort();
    await expect(createStore({ redisUrl: `redis://127.0.0.1:${port}`, redisPrefix: "attune:" })).rejects.toThrow(
      /unreachable/,
    );
  });
});
