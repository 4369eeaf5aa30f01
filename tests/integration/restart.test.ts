/**
 * With RedisStore, an Attune process can die mid-exercise and another take over: both partners come back at the
 * same step with nothing lost. Also: every Redis key of a session carries a TTL, and an expired link is refused.
 */
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { nextMove } from "../../client/headless/bot.ts";
import { Participant } from "../../client/headless/participant.ts";
import type { SessionView, TranscriptEntry } from "../../shared/protocol.ts";
import { REDIS_URL, redisAvailable, requireService } from "../support/env.ts";
import { type AttuneProcess, startAttuneProcess } from "../support/redis-server.ts";
import { createTestSession, playToEnd, startTestServer, tokenOf } from "../support/server.ts";

const redisUp = requireService("Redis (restart and TTL suite)", await redisAvailable());
const PREFIX = `attune-test:${randomBytes(4).toString("hex")}:restart:`;
const ENV = { REDIS_URL, REDIS_PREFIX: PREFIX, COMMANDS_PER_10S: "1000", LOG_LEVEL: "warn" };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const both = (v: SessionView) => v.presence.a && v.presence.b;

/** The same join link, pointed at another server. */
function via(server: { url: string }, link: string): string {
  return `${server.url}${new URL(link).pathname}`;
}

const adminClient = () => createClient({ url: REDIS_URL });

async function withAdmin<T>(fn: (admin: ReturnType<typeof adminClient>) => Promise<T>): Promise<T> {
  const admin = adminClient();
  admin.on("error", () => {});
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

/** Every key under `prefix`, with its PTTL. */
async function keysWithTtl(prefix: string): Promise<Map<string, number>> {
  return withAdmin(async (admin) => {
    const found = new Map<string, number>();
    for await (const keys of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 200 })) {
      for (const key of keys) found.set(key, await admin.pTTL(key));
    }
    return found;
  });
}

/**
 * Plays `count` moves of the running exercise (whoever's move it is), each acknowledged and seen by both.
 * Returns the typed texts that were acknowledged.
 */
async function playMoves(a: Participant, b: Participant, count: number, tag: string): Promise<string[]> {
  const said: string[] = [];
  for (let n = 0; n < count; n++) {
    const mover = [a, b].find((p) => nextMove(p.view) !== null);
    if (!mover) throw new Error(`nobody can move at ${a.view.exercise?.step.id}`);
    const text = `${tag} ${mover.seat} move ${n}`;
    const command = nextMove(mover.view, { textFor: () => text })!;
    const ack = await mover.send(command);
    if (!ack.ok) throw new Error(`${mover.seat} ${command.type} refused: ${ack.error.code}`);
    if (command.type === "say") said.push(text);
    await Promise.all([a.waitForVersion(ack.version), b.waitForVersion(ack.version)]);
  }
  return said;
}

/** What must survive a restart: where the exercise is, and everything written so far. */
function progress(view: SessionView) {
  return {
    exerciseId: view.exercise?.id,
    stepId: view.exercise?.step.id,
    speaker: view.exercise?.speaker,
    cycle: view.exercise?.cycle,
    stepIndex: view.exercise?.stepIndex,
  };
}

function expectTranscriptKept(after: TranscriptEntry[], before: TranscriptEntry[], said: string[]): void {
  expect(after.slice(0, before.length)).toEqual(before);
  const texts = after.map((t) => t.text);
  for (const text of said) expect(texts).toContain(text);
}

afterAll(async () => {
  if (!redisUp) return;
  // Only this file's keys: sessions under its prefix, and the adapter's streams and recovery keys named after it.
  await withAdmin(async (admin) => {
    for (const pattern of [`${PREFIX}*`, `socket.io:${PREFIX}*`, `sio:session:${PREFIX}*`]) {
      for await (const keys of admin.scanIterator({ MATCH: pattern, COUNT: 200 })) {
        if (keys.length > 0) await admin.del(keys);
      }
    }
  });
});

// Child processes start slowly on a loaded 2-core machine (tsx compiles the server on each start).
describe.skipIf(!redisUp)("restart of the server process with RedisStore", { timeout: 90_000 }, () => {
  const processes: AttuneProcess[] = [];
  const open: Participant[] = [];

  afterEach(async () => {
    for (const p of open.splice(0)) p.close();
    await Promise.all(processes.splice(0).map((p) => p.stop("SIGKILL")));
  });

  async function start(port?: number): Promise<AttuneProcess> {
    const proc = await startAttuneProcess(ENV, { port });
    processes.push(proc);
    return proc;
  }

  async function seated(server: AttuneProcess) {
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Robin", b: "Sam" },
    });
    const a = await Participant.join(created.links.a);
    const b = await Participant.join(created.links.b);
    open.push(a, b);
    await Promise.all([a.waitFor(both), b.waitFor(both)]);
    const start = await a.send({ type: "start-exercise" });
    if (!start.ok) throw new Error(`start refused: ${start.error.code}`);
    await Promise.all([a.waitForVersion(start.version), b.waitForVersion(start.version)]);
    return { a, b, created };
  }

  it("a crash (SIGKILL) mid-exercise: both reconnect to the new process and continue from the same step", async () => {
    const first = await start();
    const { a, b } = await seated(first);
    const said = await playMoves(a, b, 5, "before crash");
    const before = { version: a.version, progress: progress(a.view), transcript: a.view.transcript };
    expect(before.progress.stepId).toBeDefined();

    const exit = await first.stop("SIGKILL");
    expect(exit.signal).toBe("SIGKILL");
    await Promise.all([
      a.waitFor(() => !a.connected, 5_000).catch(() => {}),
      b.waitFor(() => !b.connected, 5_000).catch(() => {}),
    ]);
    expect(a.connected || b.connected).toBe(false);

    // A new process on the same port: the partners' sockets reconnect by themselves.
    await start(first.port);
    await Promise.all([
      a.waitFor((v) => a.connected && both(v), 30_000),
      b.waitFor((v) => b.connected && both(v), 30_000),
    ]);
    await Promise.all([a.waitForVersion(b.version), b.waitForVersion(a.version)]);
    for (const p of [a, b]) {
      expect(progress(p.view)).toEqual(before.progress);
      expect(p.version).toBeGreaterThanOrEqual(before.version);
      expectTranscriptKept(p.view.transcript, before.transcript, said);
    }

    // The exercise goes on from there, and the version continues (never restarts from zero).
    const resumeAt = a.version;
    const moves = await playToEnd(a, b);
    expect(Math.min(...moves.map((m) => m.version))).toBe(resumeAt + 1);
    for (const p of [a, b]) {
      expect(p.view.completed.map((c) => c.exerciseId)).toEqual(["intentional-dialogue"]);
      expectTranscriptKept(p.view.transcript, before.transcript, said);
    }
    expect(a.view.transcript).toEqual(b.view.transcript);
  });

  it("a graceful stop (SIGTERM), then both rejoin by link on a process on another port", async () => {
    const first = await start();
    const { a, b, created } = await seated(first);
    const said = await playMoves(a, b, 3, "before stop");
    const before = { version: a.version, progress: progress(a.view), transcript: a.view.transcript };

    const exit = await first.stop("SIGTERM");
    expect(exit.code).toBe(0);
    a.close();
    b.close();

    // As after a page reload: the same links, now served by another process.
    const second = await start();
    const a2 = await Participant.join(via(second, created.links.a));
    const b2 = await Participant.join(via(second, created.links.b));
    open.push(a2, b2);
    await Promise.all([a2.waitFor(both), b2.waitFor(both)]);
    await Promise.all([a2.waitForVersion(b2.version), b2.waitForVersion(a2.version)]);
    for (const p of [a2, b2]) {
      expect(progress(p.view)).toEqual(before.progress);
      // Presence may flip while nobody is connected; nothing else moved.
      expect(p.version).toBeGreaterThanOrEqual(before.version);
      expectTranscriptKept(p.view.transcript, before.transcript, said);
    }

    const moreSaid = await playMoves(a2, b2, 2, "after restart");
    await playToEnd(a2, b2);
    expect(a2.view.completed.map((c) => c.exerciseId)).toEqual(["intentional-dialogue"]);
    expectTranscriptKept(a2.view.transcript, before.transcript, [...said, ...moreSaid]);
  });
});

describe.skipIf(!redisUp)("session TTL in Redis", () => {
  const prefix = `${PREFIX}ttl:`;
  const open: Participant[] = [];
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });

  it("every key of a session has a TTL, activity renews them together, an expired link is refused", async () => {
    const ttlMs = 2_000;
    const server = await startTestServer({ redisUrl: REDIS_URL, redisPrefix: prefix, sessionTtlMs: ttlMs });
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed", agenda: [] });
    const createdBy = Date.now();

    const sessionKeys = async () =>
      new Map([...(await keysWithTtl(prefix))].filter(([key]) => key.includes(`{${created.id}}`)));
    const keys = await sessionKeys();
    // The session's core and its links (its lists appear with their first entries); tokens only as hashes, in
    // the links hash, never as keys of their own.
    expect([...keys.keys()].sort()).toEqual([`${prefix}s:{${created.id}}`, `${prefix}s:{${created.id}}:links`].sort());
    for (const [key, pttl] of keys) {
      expect(pttl, key).toBeGreaterThan(0);
      expect(pttl, key).toBeLessThanOrEqual(ttlMs);
    }
    const everything = JSON.stringify([...(await keysWithTtl(prefix)).keys()]);
    for (const link of [created.links.a, created.links.b])
      expect(everything).not.toContain(tokenOf(link).split(".")[1]!);

    // Activity (a partner joining changes presence) renews every key, not just the record: each now has more
    // time left than any key could have had without renewal.
    await sleep(800);
    const a = await Participant.join(created.links.a);
    open.push(a);
    // The snapshot may precede the presence change; once the view shows it, it is stored.
    await a.waitFor((v) => v.presence.a);
    const withoutRenewal = ttlMs - (Date.now() - createdBy);
    const renewed = await sessionKeys();
    // The presence change is in the log now.
    expect([...renewed.keys()]).toContain(`${prefix}s:{${created.id}}:log`);
    for (const [key, pttl] of renewed) expect(pttl, key).toBeGreaterThan(withoutRenewal);
    // The registry of processes keeps every key with a time to live as well.
    for (const [key, pttl] of await keysWithTtl(prefix)) expect(pttl, key).toBeGreaterThan(0);
    a.close();

    // After the TTL with no activity, everything is gone and the links are refused at the handshake.
    const deadline = Date.now() + 5_000;
    while ((await sessionKeys()).size > 0) {
      if (Date.now() > deadline) throw new Error("session keys did not expire");
      await sleep(100);
    }
    await expect(Participant.join(created.links.b, { reconnection: false })).rejects.toThrow(/TOKEN_EXPIRED/);
    await expect(Participant.join(created.links.a, { reconnection: false })).rejects.toThrow(/TOKEN_EXPIRED/);
    await server.close();
  });
});
