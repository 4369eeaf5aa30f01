/**
 * One contract for every PracticeStore: the same tests run against MemoryPracticeStore and RedisPracticeStore.
 * Redis runs use a unique key prefix and delete their own keys afterwards; the shared Redis is never flushed.
 */
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { findExercise } from "../../shared/catalogue/index.ts";
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";
import {
  MemoryPracticeStore,
  PRACTICE_LIMITS,
  type PracticeRecord,
  type PracticeStore,
  type WaitingPartner,
} from "../../server/store/practice.ts";
import { RedisPracticeStore } from "../../server/store/practice-redis.ts";
import { REDIS_URL, redisAvailable, requireService } from "../support/env.ts";
import { redisTestPrefix } from "../support/server.ts";

const redisUp = requireService("Redis (PracticeStore contract suite)", await redisAvailable());
const NOW = 1_700_000_000_000;
const uid = (label: string) => `${label}-${randomBytes(6).toString("hex")}`;

function practiceOf(id: string): PracticeRecord {
  return {
    id,
    displayName: "Dr. Rivera's practice",
    createdAt: NOW,
    ownerHash: "o".repeat(64),
    roomHash: "r".repeat(64),
    roomVersion: 1,
    keyTag: "k1234567",
  };
}

function exercise(id: string, title = "A minute of thanks"): ExerciseDefinition {
  const base = findExercise("appreciation")!;
  return { ...structuredClone(base), id, title };
}

function waiting(id: string, since: number, expiresAt = NOW + 3_600_000): WaitingPartner {
  return { id, firstName: `Name ${id}`, since, expiresAt, ticketHash: `h-${id}` };
}

const stores: { name: string; make: () => Promise<PracticeStore> }[] = [
  { name: "memory", make: async () => new MemoryPracticeStore() },
];
if (redisUp) {
  stores.push({
    name: "redis",
    make: () => RedisPracticeStore.connect({ url: REDIS_URL, prefix: redisTestPrefix("attune-practice") }),
  });
}

describe.each(stores)("PracticeStore contract: $name", ({ make }) => {
  const opened: PracticeStore[] = [];
  const open = async () => {
    const store = await make();
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    for (const s of opened) await s.close();
  });

  it("creates a practice once, reads it back, renames it and changes its room link", async () => {
    const store = await open();
    const id = uid("p");
    expect(await store.getPractice(id)).toBeNull();
    await store.createPractice(practiceOf(id));
    await expect(store.createPractice(practiceOf(id))).rejects.toThrow();
    expect(await store.getPractice(id)).toEqual(practiceOf(id));
    expect(await store.renamePractice(id, "Riverside Couples Clinic")).toBe(true);
    expect(await store.changeRoomLink(id, "n".repeat(64), 2)).toBe(true);
    expect(await store.getPractice(id)).toMatchObject({
      displayName: "Riverside Couples Clinic",
      roomHash: "n".repeat(64),
      roomVersion: 2,
      ownerHash: "o".repeat(64),
    });
    expect(await store.renamePractice(uid("none"), "x")).toBe(false);
    expect(await store.changeRoomLink(uid("none"), "x", 3)).toBe(false);
  });

  it("keeps a library that is added to, edited in place, listed in order and bounded", async () => {
    const store = await open();
    const id = uid("p");
    await store.createPractice(practiceOf(id));
    expect(await store.listExercises(id)).toEqual([]);
    expect(await store.saveExercise(id, exercise("thanks-one"))).toBe("ok");
    expect(await store.saveExercise(id, exercise("thanks-two"))).toBe("ok");
    expect(await store.saveExercise(id, exercise("thanks-one", "Edited title"))).toBe("ok");
    const list = await store.listExercises(id);
    expect(list.map((e) => [e.id, e.title])).toEqual([
      ["thanks-one", "Edited title"],
      ["thanks-two", "A minute of thanks"],
    ]);
    expect(list[0]).toEqual(exercise("thanks-one", "Edited title"));
    expect(await store.deleteExercise(id, "thanks-one")).toBe(true);
    expect(await store.deleteExercise(id, "thanks-one")).toBe(false);
    expect((await store.listExercises(id)).map((e) => e.id)).toEqual(["thanks-two"]);
    for (let i = 1; i < PRACTICE_LIMITS.exercisesMax; i++) {
      expect(await store.saveExercise(id, exercise(`more-${i}`))).toBe("ok");
    }
    expect(await store.saveExercise(id, exercise("one-too-many"))).toBe("full");
    // Editing one already there still works at the bound.
    expect(await store.saveExercise(id, exercise("more-1", "Still editable"))).toBe("ok");
    expect((await store.listExercises(id)).length).toBe(PRACTICE_LIMITS.exercisesMax);
    expect(await store.saveExercise(uid("none"), exercise("x"))).toBe("missing");
  });

  it("holds waiting partners oldest first, finds them by ticket hash, forgets them when expired or removed", async () => {
    const store = await open();
    const id = uid("p");
    await store.createPractice(practiceOf(id));
    expect(await store.addWaiting(id, waiting("w2", NOW + 20), NOW)).toBe("ok");
    expect(await store.addWaiting(id, waiting("w1", NOW + 10), NOW)).toBe("ok");
    expect(await store.addWaiting(id, waiting("old", NOW, NOW + 50), NOW)).toBe("ok");
    expect((await store.listWaiting(id, NOW + 30)).map((w) => w.id)).toEqual(["old", "w1", "w2"]);
    expect((await store.listWaiting(id, NOW + 60)).map((w) => w.id)).toEqual(["w1", "w2"]);
    expect(await store.findWaiting(id, "h-w1", NOW + 60)).toEqual(waiting("w1", NOW + 10));
    expect(await store.findWaiting(id, "h-old", NOW + 60)).toBeNull();
    expect(await store.findWaiting(id, "h-nobody", NOW)).toBeNull();

    const seat = { sessionId: "s1", seat: "a" as const };
    expect(await store.seatWaiting(id, "w1", seat, NOW + 7_200_000)).toBe(true);
    expect(await store.findWaiting(id, "h-w1", NOW + 60)).toMatchObject({ seat, expiresAt: NOW + 7_200_000 });
    expect(await store.seatWaiting(id, "nobody", seat, NOW)).toBe(false);
    // Of two removals at once, exactly one is told it removed the partner (the seat is handed out once).
    const removals = await Promise.all([store.removeWaiting(id, "w1"), store.removeWaiting(id, "w1")]);
    expect(removals.filter(Boolean)).toHaveLength(1);
    expect(await store.removeWaiting(id, "w1")).toBe(false);
    expect((await store.listWaiting(id, NOW + 60)).map((w) => w.id)).toEqual(["w2"]);
    expect(await store.addWaiting(uid("none"), waiting("x", NOW), NOW)).toBe("missing");
  });

  it("keeps a waiting page's public key, and the wrapped keys of the seat it is started into", async () => {
    const store = await open();
    const id = uid("p");
    await store.createPractice(practiceOf(id));
    const publicKey = `B${"k".repeat(86)}`;
    const keyed = { ...waiting("keyed", NOW), publicKey };
    expect(await store.addWaiting(id, keyed, NOW)).toBe("ok");
    expect(await store.addWaiting(id, waiting("keyless", NOW + 1), NOW)).toBe("ok");
    const listed = await store.listWaiting(id, NOW);
    expect(listed[0]).toEqual(keyed);
    expect(listed[1]).not.toHaveProperty("publicKey");
    const wrappedKeys = `x1.${publicKey}.${"i".repeat(16)}.${"c".repeat(144)}`;
    const seat = { sessionId: "s1", seat: "b" as const, wrappedKeys };
    expect(await store.seatWaiting(id, "keyed", seat, NOW + 60_000)).toBe(true);
    expect(await store.findWaiting(id, "h-keyed", NOW)).toEqual({ ...keyed, seat, expiresAt: NOW + 60_000 });
    // A seat without keys (an unencrypted session) keeps none.
    expect(await store.seatWaiting(id, "keyless", { sessionId: "s1", seat: "a" }, NOW + 60_000)).toBe(true);
    expect((await store.findWaiting(id, "h-keyless", NOW))?.seat).toEqual({ sessionId: "s1", seat: "a" });
    await store.removeWaiting(id, "keyed");
    expect(await store.findWaiting(id, "h-keyed", NOW)).toBeNull();
  });

  it("bounds the waiting list, counting only those still waiting", async () => {
    const store = await open();
    const id = uid("p");
    await store.createPractice(practiceOf(id));
    for (let i = 0; i < PRACTICE_LIMITS.waitingMax - 1; i++) {
      expect(await store.addWaiting(id, waiting(`w${i}`, NOW + i), NOW)).toBe("ok");
    }
    expect(await store.addWaiting(id, waiting("short", NOW, NOW + 100), NOW)).toBe("ok");
    expect(await store.addWaiting(id, waiting("over", NOW), NOW)).toBe("full");
    // Once the short wait has expired there is room again.
    expect(await store.addWaiting(id, waiting("later", NOW + 200), NOW + 200)).toBe("ok");
    expect((await store.listWaiting(id, NOW + 200)).length).toBe(PRACTICE_LIMITS.waitingMax);
  });

  it("keeps practices apart", async () => {
    const store = await open();
    const [one, two] = [uid("p"), uid("p")];
    await store.createPractice(practiceOf(one));
    await store.createPractice(practiceOf(two));
    await store.saveExercise(one, exercise("only-in-one"));
    await store.addWaiting(one, waiting("w", NOW), NOW);
    expect(await store.listExercises(two)).toEqual([]);
    expect(await store.listWaiting(two, NOW)).toEqual([]);
    expect(await store.findWaiting(two, "h-w", NOW)).toBeNull();
  });
});
