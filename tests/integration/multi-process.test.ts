/**
 * Two Attune servers share one Redis and serve one session: one runs in this test process, the other as a
 * separate OS process (`node --import tsx server/main.ts`). Partner A plays on one, partner B on the other.
 */
import { randomBytes } from "node:crypto";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import type { RunningAttune } from "../../server/app.ts";
import type { CommandAck, SessionView } from "../../shared/protocol.ts";
import { REDIS_URL, redisAvailable, requireService } from "../support/env.ts";
import { type AttuneProcess, startAttuneProcess } from "../support/redis-server.ts";
import { createTestSession, playToEnd, startTestServer } from "../support/server.ts";

const redisUp = requireService("Redis (multi-process suite)", await redisAvailable());
const PREFIX = `attune-test:${randomBytes(4).toString("hex")}:mp:`;

/** The same join link, pointed at another server (the token is what matters, not the host that issued it). */
function via(server: { url: string }, link: string): string {
  return `${server.url}${new URL(link).pathname}`;
}

function okVersions(acks: CommandAck[]): number[] {
  return acks.flatMap((ack) => (ack.ok ? [ack.version] : []));
}

/** Every version from `from` to `to`, once each. */
function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe.skipIf(!redisUp)("two processes, one Redis", { timeout: 60_000 }, () => {
  let local: RunningAttune;
  let remote: AttuneProcess;
  const open: Participant[] = [];

  beforeAll(async () => {
    [local, remote] = await Promise.all([
      startTestServer({ redisUrl: REDIS_URL, redisPrefix: PREFIX, commandRate: 1000 }),
      startAttuneProcess({ REDIS_URL, REDIS_PREFIX: PREFIX, COMMANDS_PER_10S: "1000", LOG_LEVEL: "warn" }),
    ]);
  });

  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });

  afterAll(async () => {
    const exit = await remote?.stop("SIGTERM");
    // A graceful stop of the child is part of the contract: it must exit cleanly.
    expect(exit?.code).toBe(0);
    const admin = createClient({ url: REDIS_URL });
    admin.on("error", () => {});
    await admin.connect();
    for (const pattern of [`${PREFIX}*`, `socket.io:${PREFIX}*`, `sio:session:${PREFIX}*`]) {
      for await (const keys of admin.scanIterator({ MATCH: pattern, COUNT: 200 })) {
        if (keys.length > 0) await admin.del(keys);
      }
    }
    await admin.close();
  });

  /** A on the in-process server, B on the child process; resolves once each sees both present. */
  async function pair(agenda: string[]) {
    const created = await createTestSession(local.url, {
      mode: "guided",
      channel: "typed",
      agenda,
      names: { a: "Robin", b: "Sam" },
    });
    const a = await Participant.join(created.links.a);
    open.push(a);
    const b = await Participant.join(via(remote, created.links.b));
    open.push(b);
    const both = (v: SessionView) => v.presence.a && v.presence.b;
    await Promise.all([a.waitFor(both), b.waitFor(both)]);
    await Promise.all([a.waitForVersion(b.version), b.waitForVersion(a.version)]);
    return { a, b, created };
  }

  it("partner A on one process and B on the other complete an intentional dialogue (typed)", async () => {
    const { a, b } = await pair(["intentional-dialogue"]);
    // Raw updates per socket, to check that each partner is told of every version, wherever it was applied.
    const seen = { a: [] as number[], b: [] as number[] };
    // Every update, whether it came as an event or in the ack of the seat's own command.
    a.on("update", (m) => seen.a.push(m.version));
    b.on("update", (m) => seen.b.push(m.version));
    const startVersion = a.version;

    const start = await b.send({ type: "start-exercise" });
    expect(start.ok).toBe(true);
    if (!start.ok) return;
    await Promise.all([a.waitForVersion(start.version), b.waitForVersion(start.version)]);
    expect(a.view.exercise?.id).toBe("intentional-dialogue");

    const moves = await playToEnd(a, b);
    // Both seats acted, and on both processes.
    expect(new Set(moves.map((m) => m.seat))).toEqual(new Set(["a", "b"]));
    const last = Math.max(...moves.map((m) => m.version));
    await Promise.all([a.waitForVersion(last), b.waitForVersion(last)]);

    for (const p of [a, b]) {
      expect(p.view.exercise).toBeNull();
      expect(p.view.completed.map((c) => c.exerciseId)).toEqual(["intentional-dialogue"]);
    }
    // Same story on both sides: every typed contribution, in order, written by the seat that made it (and every
    // choice recorded too).
    const said = moves.filter((m) => m.command.type === "say");
    expect(a.view.transcript).toEqual(b.view.transcript);
    expect(a.view.transcript.filter((t) => t.kind === "say").map((t) => [t.seat, t.text])).toEqual(
      said.map((m) => [m.seat, m.command.type === "say" ? m.command.text : undefined]),
    );
    expect(a.view.transcript.filter((t) => t.kind === "choice")).toHaveLength(
      moves.filter((m) => m.command.type === "choose").length,
    );
    // Each socket received an update for every version after it joined, exactly once.
    const final = a.version;
    expect(b.version).toBe(final);
    expect([...seen.a].sort((x, y) => x - y)).toEqual(range(startVersion + 1, final));
    expect([...seen.b].sort((x, y) => x - y)).toEqual(range(startVersion + 1, final));
    // The views stayed seat-shaped across processes.
    expect(a.view.you.seat).toBe("a");
    expect(b.view.you.seat).toBe("b");
  });

  it("simultaneous commands across the two processes, many rounds: each legal one applied once", async () => {
    const { a, b } = await pair(["check-in"]);
    const first = a.version;
    const rounds = 8;
    const applied: CommandAck[] = [];
    for (let round = 0; round < rounds; round++) {
      const starts = await Promise.all([
        a.send({ type: "start-exercise", exerciseId: "check-in" }),
        b.send({ type: "start-exercise", exerciseId: "check-in" }),
      ]);
      // One start lands; the other, re-applied on the new state, finds the exercise running.
      expect(okVersions(starts)).toHaveLength(1);
      expect(starts.find((s) => !s.ok)).toMatchObject({ ok: false, error: { code: "EXERCISE_IN_PROGRESS" } });
      const started = okVersions(starts)[0]!;
      await Promise.all([a.waitForVersion(started), b.waitForVersion(started)]);

      // Both answer at the same moment on different processes: both land, in one order.
      const answers = await Promise.all([
        a.send({ type: "answer", answer: { rating: (round % 10) + 1, feeling: "calm" } }),
        b.send({ type: "answer", answer: { rating: 10 - (round % 10), feeling: "tired" } }),
      ]);
      expect(answers.map((x) => x.ok)).toEqual([true, true]);
      const top = Math.max(...okVersions(answers));
      await Promise.all([a.waitForVersion(top), b.waitForVersion(top)]);

      // Illegal now (the check-in ended with the second answer): refused with its code, nothing changes.
      const before = a.version;
      const late = await b.send({ type: "answer", answer: { rating: 5, feeling: "calm" } });
      expect(late).toMatchObject({ ok: false, error: { code: "NO_ACTIVE_EXERCISE" } });
      expect(a.version).toBe(before);
      applied.push(...starts, ...answers);
    }

    const versions = okVersions(applied).sort((x, y) => x - y);
    expect(versions).toEqual(range(first + 1, first + rounds * 3));
    await Promise.all([a.waitForVersion(first + rounds * 3), b.waitForVersion(first + rounds * 3)]);
    expect(a.version).toBe(first + rounds * 3);
    expect(b.version).toBe(first + rounds * 3);
    // Every round's pair of answers was revealed together, none lost, none doubled.
    for (const p of [a, b]) {
      expect(p.view.checkIns).toHaveLength(rounds);
      p.view.checkIns.forEach((c, round) => {
        expect(c.answers.a).toMatchObject({ rating: (round % 10) + 1, feeling: "calm" });
        expect(c.answers.b).toMatchObject({ rating: 10 - (round % 10), feeling: "tired" });
      });
    }
  });

  it("a command retried on the other process (same id) is applied once", async () => {
    const { a, b, created } = await pair(["check-in"]);
    const id = `retry-${randomBytes(6).toString("hex")}`;
    const first = await a.send({ type: "start-exercise" }, { id });
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    await b.waitForVersion(first.version);

    // A's device reconnects through the other process (the old socket is taken over) and retries the command.
    const again = await Participant.join(via(remote, created.links.a));
    open.push(again);
    const retried = await again.send({ type: "start-exercise" }, { id });
    // The same outcome; only the first ack carried the seat's own update (the retry's socket catches up by resync).
    expect(first.update?.version).toBe(first.version);
    expect(retried).toEqual({ ok: true, version: first.version });
    // A different id is a new command, refused on the state the first one left.
    const fresh = await again.send({ type: "start-exercise" });
    expect(fresh).toMatchObject({ ok: false, error: { code: "EXERCISE_IN_PROGRESS" } });
    // Only presence moved the version since the start (the takeover), never a second start.
    const view = await again.resync();
    expect(view.exercise?.id).toBe("check-in");
    expect(view.completed).toEqual([]);
    expect(b.view.exercise?.stepIndex).toBe(0);
  });
});
