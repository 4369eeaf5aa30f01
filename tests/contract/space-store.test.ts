/**
 * One contract for the couples' spaces (SpaceStore), run on MemoryStore and RedisStore: links resolve by hash,
 * appends are atomic and idempotent by entry id (two partners saving at once land exactly once each), limits
 * hold, visits renew the time-to-live, revoked and reissued links, erase removes everything.
 * Redis runs use a unique key prefix and remove their own keys; the shared Redis is never flushed.
 */
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../../server/store/memory.ts";
import { RedisStore } from "../../server/store/redis.ts";
import type { SpaceEntry, SpaceLimits, SpaceStore } from "../../server/store/space-types.ts";
import type { SessionStore } from "../../server/store/types.ts";
import { REDIS_URL, redisAvailable, requireService } from "../support/env.ts";

const redisUp = requireService("Redis (SpaceStore contract suite)", await redisAvailable());
const RUN = randomBytes(4).toString("hex");
const TTL = 60_000;
const LIMITS: SpaceLimits = { maxEntries: 50, maxBytes: 100_000 };

const uid = (label: string) => `${label}${randomBytes(8).toString("base64url")}`;
const hash = () => randomBytes(32).toString("hex");

function entry(id: string, by: "a" | "b" = "a", size = 40, extra: Partial<SpaceEntry> = {}): SpaceEntry {
  const envelope = JSON.stringify({ v: 1, iv: "AAAAAAAAAAAAAAAA", ct: "x".repeat(Math.max(1, size - 30)) });
  return { id, kind: "note", by, at: 1_700_000_000_000, envelope, size: envelope.length, ...extra };
}

interface Harness {
  open(): Promise<SessionStore>;
  keys?(): Promise<Map<string, number>>;
  cleanup(): Promise<void>;
}

function memoryHarness(): Harness {
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
  const prefix = `attune-test:${RUN}:space-contract:`;
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

const harnesses = [
  { name: "MemoryStore", make: memoryHarness, enabled: true },
  { name: "RedisStore", make: redisHarness, enabled: redisUp },
];

describe.each(harnesses)("SpaceStore contract: $name", ({ make, enabled }) => {
  let harness: Harness;
  let spaces: SpaceStore;
  /** A second client of the same backend (another process, for Redis). */
  let other: SpaceStore;

  beforeAll(async () => {
    if (!enabled) return;
    harness = make();
    spaces = (await harness.open()).spaces();
    other = (await harness.open()).spaces();
  });
  afterAll(async () => {
    if (enabled) await harness.cleanup();
  });

  async function newSpace(ttl = TTL) {
    const id = uid("sp");
    const links = { a: hash(), b: hash() };
    await spaces.createSpace(
      { id, createdAt: 1_700_000_000_000 },
      [
        { partner: "a", tokenHash: links.a },
        { partner: "b", tokenHash: links.b },
      ],
      ttl,
    );
    return { id, links };
  }

  it.runIf(enabled)(
    "creates a space whose two links resolve by hash to their partner, and nothing else does",
    async () => {
      const { id, links } = await newSpace();
      expect(await spaces.findByLinkHash(id, links.a)).toEqual({ spaceId: id, partner: "a", revoked: false });
      expect(await other.findByLinkHash(id, links.b)).toEqual({ spaceId: id, partner: "b", revoked: false });
      expect(await spaces.findByLinkHash(id, hash())).toBeNull();
      expect(await spaces.findByLinkHash(uid("none"), links.a)).toBeNull();
      expect(await spaces.meta(id)).toEqual({ id, createdAt: 1_700_000_000_000, entries: 0, bytes: 0 });
      expect(await spaces.listEntries(id)).toEqual([]);
      await expect(
        spaces.createSpace({ id, createdAt: 1 }, [{ partner: "a", tokenHash: hash() }], TTL),
      ).rejects.toThrow(/exists/);
      expect(await spaces.findByLinkHash(id, links.a)).not.toBeNull();
    },
  );

  it.runIf(enabled)("appends entries in order, each once: a repeated id is 'exists' and changes nothing", async () => {
    const { id } = await newSpace();
    const first = entry(uid("e"), "a", 60, { group: "g1" });
    const second = entry(uid("e"), "b", 80);
    expect(await spaces.append(id, first, LIMITS, TTL)).toBe("ok");
    expect(await other.append(id, second, LIMITS, TTL)).toBe("ok");
    expect(await spaces.append(id, { ...first, envelope: '{"v":1}', size: 7 }, LIMITS, TTL)).toBe("exists");
    expect(await spaces.listEntries(id)).toEqual([first, second]);
    expect(await spaces.meta(id)).toMatchObject({ entries: 2, bytes: first.size + second.size });
    expect(await spaces.append(uid("none"), entry(uid("e")), LIMITS, TTL)).toBe("missing");
  });

  it.runIf(enabled)(
    "two partners appending at once: different entries both land, the same entry lands once",
    async () => {
      const { id } = await newSpace();
      for (let round = 0; round < 10; round++) {
        const mine = entry(uid("m"), "a");
        const theirs = entry(uid("t"), "b");
        const shared = uid("s");
        const results = await Promise.all([
          spaces.append(id, mine, LIMITS, TTL),
          other.append(id, theirs, LIMITS, TTL),
          spaces.append(id, entry(shared, "a"), LIMITS, TTL),
          other.append(id, entry(shared, "b"), LIMITS, TTL),
        ]);
        expect(results.slice(0, 2)).toEqual(["ok", "ok"]);
        expect(results.slice(2).sort()).toEqual(["exists", "ok"]);
      }
      const stored = (await spaces.listEntries(id))!;
      expect(stored).toHaveLength(30);
      expect(new Set(stored.map((e) => e.id)).size).toBe(30);
    },
  );

  it.runIf(enabled)("refuses an append past the entry count or byte limit with 'full', storing nothing", async () => {
    const { id } = await newSpace();
    const small: SpaceLimits = { maxEntries: 2, maxBytes: 150 };
    expect(await spaces.append(id, entry(uid("e"), "a", 60), small, TTL)).toBe("ok");
    const big = entry(uid("e"), "a", 120);
    expect(await spaces.append(id, big, small, TTL)).toBe("full");
    expect(await spaces.append(id, entry(uid("e"), "a", 60), small, TTL)).toBe("ok");
    expect(await spaces.append(id, entry(uid("e"), "a", 31), small, TTL)).toBe("full");
    expect(await spaces.listEntries(id)).toHaveLength(2);
  });

  it.runIf(enabled)(
    "a visit renews the time-to-live of every key; an unvisited space expires with its links",
    async () => {
      const { id, links } = await newSpace(1500);
      expect(await spaces.ttl(id)).toBeLessThanOrEqual(1500);
      expect(await spaces.touch(id, TTL)).toBe(true);
      expect(await spaces.ttl(id)).toBeGreaterThan(TTL - 5000);
      if (harness.keys) {
        const keys = [...(await harness.keys()).entries()].filter(([k]) => k.includes(`{${id}}`));
        expect(keys.length).toBeGreaterThanOrEqual(2);
        for (const [, ttl] of keys) expect(ttl).toBeGreaterThan(TTL - 5000);
      }
      expect(await spaces.touch(uid("none"), TTL)).toBe(false);
      const short = await newSpace(80);
      await spaces.append(short.id, entry(uid("e")), LIMITS, 80);
      await new Promise((r) => setTimeout(r, 200));
      expect(await spaces.findByLinkHash(short.id, short.links.a)).toBeNull();
      expect(await spaces.listEntries(short.id)).toBeNull();
      expect(await spaces.ttl(short.id)).toBeNull();
      expect(await spaces.findByLinkHash(id, links.a)).not.toBeNull();
    },
  );

  it.runIf(enabled)(
    "a revoked link answers revoked; a reissued link works while the old one stays revoked",
    async () => {
      const { id, links } = await newSpace();
      expect(await spaces.revokeLink(id, "a")).toBe(true);
      expect(await spaces.findByLinkHash(id, links.a)).toMatchObject({ partner: "a", revoked: true });
      expect(await spaces.findByLinkHash(id, links.b)).toMatchObject({ partner: "b", revoked: false });
      const fresh = hash();
      expect(await other.reissueLink(id, "a", fresh)).toBe(true);
      expect(await spaces.findByLinkHash(id, fresh)).toMatchObject({ partner: "a", revoked: false });
      expect(await spaces.findByLinkHash(id, links.a)).toMatchObject({ partner: "a", revoked: true });
      const freshB = hash();
      expect(await spaces.reissueLink(id, "b", freshB)).toBe(true);
      expect(await spaces.findByLinkHash(id, links.b)).toMatchObject({ revoked: true });
      await expect(spaces.reissueLink(id, "b", fresh)).rejects.toThrow(/in use/);
      expect(await spaces.revokeLink(uid("none"), "a")).toBe(false);
      expect(await spaces.reissueLink(uid("none"), "a", hash())).toBe(false);
    },
  );

  it.runIf(enabled)("erase removes the space, its entries and both links at once", async () => {
    const { id, links } = await newSpace();
    await spaces.append(id, entry(uid("e")), LIMITS, TTL);
    await other.erase(id);
    expect(await spaces.findByLinkHash(id, links.a)).toBeNull();
    expect(await spaces.findByLinkHash(id, links.b)).toBeNull();
    expect(await spaces.listEntries(id)).toBeNull();
    expect(await spaces.meta(id)).toBeNull();
    expect(await spaces.append(id, entry(uid("e")), LIMITS, TTL)).toBe("missing");
    if (harness.keys) {
      expect([...(await harness.keys()).keys()].filter((k) => k.includes(`{${id}}`))).toEqual([]);
    }
  });
});

describe.runIf(redisUp)("SpaceStore keys in Redis", () => {
  it("keeps every key of a space in one hash slot, under the prefix", async () => {
    const harness = redisHarness();
    try {
      const spaces = (await harness.open()).spaces();
      const id = uid("sp");
      await spaces.createSpace({ id, createdAt: 1 }, [{ partner: "a", tokenHash: hash() }], TTL);
      await spaces.append(id, entry(uid("e")), LIMITS, TTL);
      const keys = [...(await harness.keys!()).keys()].filter((k) => k.includes(id));
      expect(keys.sort()).toEqual(
        ["", ":e", ":links", ":o"].map((s) => `attune-test:${RUN}:space-contract:sp:{${id}}${s}`).sort(),
      );
    } finally {
      await harness.cleanup();
    }
  });
});
