/**
 * Two partners join by their links and play whole exercises in both channels over real sockets, each seeing
 * the session from their own seat; runs against the memory store and against Redis.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { createTestSession, playToEnd, startTestServer, storeVariants } from "../support/server.ts";

const variants = await storeVariants();
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function join(link: string): Promise<Participant> {
  const p = await Participant.join(link);
  open.push(p);
  return p;
}

describe.each(variants)("playing over sockets ($name store)", (variant) => {
  it("typed: an intentional dialogue runs both cycles, each seat seeing its own role", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Sam", b: "Alex" },
    });
    expect(Object.keys(created.links).sort()).toEqual(["a", "b"]);
    const a = await join(created.links.a);
    const b = await join(created.links.b);
    expect(a.view.you.seat).toBe("a");
    expect(b.view.you.seat).toBe("b");
    await a.waitFor((v) => v.presence.a && v.presence.b);
    await b.waitFor((v) => v.presence.a && v.presence.b);
    expect(a.view.names).toEqual({ a: "Sam", b: "Alex" });

    const start = await a.send({ type: "start-exercise", firstSpeaker: "a" });
    expect(start.ok).toBe(true);
    await Promise.all([a.waitFor((v) => v.exercise !== null), b.waitFor((v) => v.exercise !== null)]);
    expect(a.view.exercise?.step.role).toBe("speaker");
    expect(b.view.exercise?.step.role).toBe("listener");
    expect(a.view.exercise?.step.yourMove).toBe(true);
    expect(b.view.exercise?.step.yourMove).toBe(false);

    // One "not quite" on the first check walks the clarify loop once.
    const moves = await playToEnd(a, b, {
      choose: (step, visit) => (step === "check" && visit === 1 ? "not-quite" : undefined),
    });
    // Roles swap between cycles: a speaks in cycle 1, b in cycle 2.
    const invites = moves.filter((m) => m.stepId === "invite").map((m) => m.seat);
    expect(invites).toEqual(["a", "b"]);
    for (const m of moves) {
      const expectedRole = ["invite", "send", "clarify", "check", "summary-check", "empathy-check"].includes(m.stepId)
        ? "speaker"
        : "listener";
      expect(m.role, `${m.seat} at ${m.stepId}`).toBe(expectedRole);
    }
    expect(moves.some((m) => m.stepId === "clarify")).toBe(true);
    // Versions of applied moves only grow.
    const versions = moves.map((m) => m.version);
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);

    expect(a.view.phase).toBe("lobby");
    expect(a.view.completed.map((c) => c.exerciseId)).toEqual(["intentional-dialogue"]);
    expect(b.view.version).toBe(a.view.version);
    // The shared transcript holds every typed line, the same for both.
    const says = moves.filter((m) => m.command.type === "say").length;
    expect(a.view.transcript.filter((t) => t.kind === "say")).toHaveLength(says);
    expect(b.view.transcript).toEqual(a.view.transcript);
    expect(a.view.transcript[0]?.text).toBe("a at invite #1");
  });

  it("spoken: an appreciation exchange completes with no text sent", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "spoken",
      agenda: ["appreciation"],
    });
    const a = await join(created.links.a);
    const b = await join(created.links.b);
    expect((await b.send({ type: "start-exercise", firstSpeaker: "b" })).ok).toBe(true);
    await a.waitFor((v) => v.exercise !== null);
    expect(a.view.exercise?.speaker).toBe("b");
    // Text is refused in the spoken channel: the partner speaks aloud and taps done.
    const withText = await b.send({ type: "say", text: "typed anyway" });
    expect(withText).toMatchObject({ ok: false, error: { code: "TEXT_NOT_ALLOWED" } });
    const moves = await playToEnd(a, b, {
      choose: (step, visit) => (step === "more" ? (visit === 1 ? "another" : "done") : undefined),
    });
    expect(moves.every((m) => m.command.type !== "say" || m.command.text === undefined)).toBe(true);
    expect(moves[0]?.seat).toBe("b");
    expect(a.view.completed.map((c) => c.exerciseId)).toEqual(["appreciation"]);
    expect(a.view.transcript.every((t) => t.text === undefined)).toBe(true);
  });

  it("check-in: neither partner sees the other's answer until both answered, then both see both", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "guided", channel: "typed", agenda: ["check-in"] });
    const a = await join(created.links.a);
    const b = await join(created.links.b);
    expect((await a.send({ type: "start-exercise" })).ok).toBe(true);
    await b.waitFor((v) => v.exercise?.step.kind === "private-answer");
    const fields = a.view.exercise!.step.answerFields!;
    const secret = "a secret only a may see for now";
    const ack = await a.send({
      type: "answer",
      answer: { rating: fields.rating!.min + 2, feeling: fields.feelings![0]!, note: secret },
    });
    expect(ack.ok).toBe(true);
    await b.waitForVersion((ack as { version: number }).version);
    expect(b.view.exercise?.step.answered).toEqual({ a: true, b: false });
    expect(JSON.stringify(b.view)).not.toContain(secret);
    expect(a.view.exercise?.step.yourAnswer?.note).toBe(secret);
    const second = await b.send({
      type: "answer",
      answer: { rating: fields.rating!.max, feeling: fields.feelings![1]! },
    });
    expect(second.ok).toBe(true);
    await Promise.all([a.waitFor((v) => v.checkIns.length === 1), b.waitFor((v) => v.checkIns.length === 1)]);
    expect(b.view.checkIns[0]?.answers.a.note).toBe(secret);
    expect(a.view.checkIns[0]?.answers.b.rating).toBe(fields.rating!.max);
    expect(a.view.completed.map((c) => c.exerciseId)).toEqual(["check-in"]);
  });
});
