/**
 * Both partners send at the same moment, many rounds: every legal command lands exactly once, versions stay
 * contiguous, illegal ones are refused with their code, and a retried command id is applied once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import type { CommandAck } from "../../shared/protocol.ts";
import { createTestSession, startTestServer, storeVariants } from "../support/server.ts";

const variants = await storeVariants();
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function pair(url: string, agenda: string[]) {
  const created = await createTestSession(url, { mode: "guided", channel: "typed", agenda });
  const a = await Participant.join(created.links.a);
  const b = await Participant.join(created.links.b);
  open.push(a, b);
  await a.waitFor((v) => v.presence.a && v.presence.b);
  await b.waitForVersion(a.version);
  return { a, b, created };
}

function okVersions(acks: CommandAck[]): number[] {
  return acks.flatMap((ack) => (ack.ok ? [ack.version] : []));
}

describe.each(variants)("concurrent commands ($name store)", (variant) => {
  it("many rounds of simultaneous starts and check-ins: each legal one once, versions contiguous", async () => {
    const server = await startTestServer({ ...variant.options(), commandRate: 1000 });
    const { a, b } = await pair(server.url, ["check-in"]);
    const first = a.version;
    const rounds = 12;
    const all: CommandAck[] = [];
    for (let round = 0; round < rounds; round++) {
      // Both try to start the same exercise: exactly one start lands, the other finds it running.
      const starts = await Promise.all([
        a.send({ type: "start-exercise", exerciseId: "check-in" }),
        b.send({ type: "start-exercise", exerciseId: "check-in" }),
      ]);
      expect(okVersions(starts)).toHaveLength(1);
      const refused = starts.find((s) => !s.ok);
      expect(refused).toMatchObject({ ok: false, error: { code: "EXERCISE_IN_PROGRESS" } });
      await Promise.all([a.waitForVersion(okVersions(starts)[0]!), b.waitForVersion(okVersions(starts)[0]!)]);
      // Both answer at the same moment: both land, one after the other, and the check-in reveals.
      const answers = await Promise.all([
        a.send({ type: "answer", answer: { rating: 3, feeling: "calm" } }),
        b.send({ type: "answer", answer: { rating: 7, feeling: "tired" } }),
      ]);
      expect(answers.every((x) => x.ok)).toBe(true);
      // A late third answer from a is illegal now: the exercise is over.
      const late = await a.send({ type: "answer", answer: { rating: 5, feeling: "calm" } });
      expect(late).toMatchObject({ ok: false, error: { code: "NO_ACTIVE_EXERCISE" } });
      all.push(...starts, ...answers);
    }
    const log = await server.store.loadLog(a.view.id);
    // The log holds every applied command once: what the partners sent, plus presence changes should a socket
    // blip on a loaded machine (those are the server's own commands, never a partner's applied twice).
    const applied = log!.filter((e) => e.v > first);
    const sent = applied.filter((e) => e.actor !== "system");
    const system = applied.filter((e) => e.actor === "system").map((e) => e.v);
    const why = JSON.stringify(applied.map((e) => [e.v, e.actor, e.command.type]));
    expect(
      sent.filter((e) => e.command.type === "start-exercise"),
      why,
    ).toHaveLength(rounds);
    expect(
      sent.filter((e) => e.command.type === "answer"),
      why,
    ).toHaveLength(rounds * 2);
    expect(sent, why).toHaveLength(rounds * 3);
    const versions = okVersions(all).sort((x, y) => x - y);
    // Each acknowledged version is the one its command was logged at, and nothing else holds it.
    expect(versions, why).toEqual(sent.map((e) => e.v));
    // No lost update, no double apply: together the versions are exactly first+1 .. the last, without a gap.
    const every = [...versions, ...system].sort((x, y) => x - y);
    expect(every, why).toEqual(Array.from({ length: every.length }, (_, i) => first + 1 + i));
    const last = every.at(-1)!;
    await Promise.all([a.waitForVersion(last), b.waitForVersion(last)]);
    expect(a.view.version).toBe(last);
    expect(a.view.completed).toHaveLength(rounds);
    expect(a.view.checkIns).toHaveLength(rounds);
    for (const c of a.view.checkIns)
      expect(c.answers).toEqual({ a: { rating: 3, feeling: "calm" }, b: { rating: 7, feeling: "tired" } });
  });

  it("a pinned expectedVersion is refused as stale when the other partner won the race, with a fresh snapshot", async () => {
    const server = await startTestServer({ ...variant.options(), commandRate: 1000 });
    const { a, b } = await pair(server.url, ["check-in"]);
    const started = await a.send({ type: "start-exercise" });
    if (!started.ok) throw new Error(started.error.code);
    // With Redis the update travels through the adapter's stream, so the ack can arrive before it.
    const at = started.version;
    await Promise.all([a.waitForVersion(at), b.waitForVersion(at)]);
    const snapshots: number[] = [];
    let sawSnapshot: () => void = () => {};
    const snapshotSeen = new Promise<void>((resolve) => {
      sawSnapshot = resolve;
    });
    b.socket.on("snapshot", (v) => {
      snapshots.push(v.version);
      sawSnapshot();
    });
    const [x, y] = await Promise.all([
      a.send({ type: "answer", answer: { rating: 2, feeling: "calm" } }, { expectedVersion: at }),
      b.send({ type: "answer", answer: { rating: 2, feeling: "calm" } }, { expectedVersion: at }),
    ]);
    expect(okVersions([x!, y!])).toEqual([at + 1]);
    const loser = x!.ok ? y! : x!;
    expect(loser).toMatchObject({ ok: false, error: { code: "STALE_VERSION" } });
    if (!y!.ok) {
      await snapshotSeen;
      expect(snapshots).toEqual([at + 1]);
    }
    // Without a pin the same answer lands on the new state.
    const again = await (x!.ok ? b : a).send({ type: "answer", answer: { rating: 2, feeling: "calm" } });
    expect(again).toMatchObject({ ok: true, version: at + 2, update: { from: at + 1, version: at + 2 } });
  });

  it("a retried command id is applied once, even when the copies race", async () => {
    const server = await startTestServer({ ...variant.options(), commandRate: 1000 });
    const { a, b } = await pair(server.url, ["check-in", "appreciation"]);
    const before = a.version;
    const first = await a.send({ type: "start-exercise" }, { id: "retry-start-0001" });
    // The applied command's ack carries the seat's own update; a retry of it says the same outcome without one.
    expect(first).toMatchObject({ ok: true, version: before + 1, update: { from: before, version: before + 1 } });
    const retry = await a.send({ type: "start-exercise" }, { id: "retry-start-0001" });
    expect(retry).toEqual({ ok: true, version: before + 1 });
    // Two copies of one answer in flight at once: one applied, both acknowledged with its version.
    const copies = await Promise.all([
      a.socket.emitWithAck("command", {
        id: "retry-answer-01",
        command: { type: "answer", answer: { rating: 4, feeling: "calm" } },
      }),
      a.socket.emitWithAck("command", {
        id: "retry-answer-01",
        command: { type: "answer", answer: { rating: 4, feeling: "calm" } },
      }),
    ]);
    // The copy applied carries the update in its ack; the other, answered from the record of applied ids, does not.
    const [applied, repeated] = "update" in copies[0] ? [copies[0], copies[1]] : [copies[1], copies[0]];
    expect(applied).toMatchObject({ ok: true, version: before + 2, update: { version: before + 2 } });
    expect(repeated).toEqual({ ok: true, version: before + 2 });
    // The same id from the other seat is a different command: ids are per seat.
    const theirs = await b.send({ type: "answer", answer: { rating: 6, feeling: "tired" } }, { id: "retry-answer-01" });
    expect(theirs).toMatchObject({ ok: true, version: before + 3 });
    await a.waitForVersion(before + 3);
    const fresh = await a.resync();
    expect(fresh.version).toBe(before + 3);
    expect(fresh.checkIns).toHaveLength(1);
  });
});
