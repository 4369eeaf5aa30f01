/**
 * A therapist uploads an exercise that uses the guess, pick and agreement kinds, over real sockets: it validates,
 * joins the agenda, and plays to its end in both channels on every store. Until a reveal no guess or idea reaches
 * the other partner's socket or the therapist's; the agreements end up in every seat's view and survive a reload
 * from the store. A broken upload of the new kinds is refused with each problem at its path.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import { validateExercise } from "../../shared/exercise-format.ts";
import type { Command, CommandAck, SessionView } from "../../shared/protocol.ts";
import { DATE_NIGHT } from "../support/exercises.ts";
import { createTestSession, startTestServer, storeVariants } from "../support/server.ts";

const variants = await storeVariants();
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

async function sent(p: Participant, command: Command): Promise<number> {
  const ack: CommandAck = await p.send(command);
  if (!ack.ok) throw new Error(`${p.seat} ${command.type} refused: ${ack.error.code} ${ack.error.message}`);
  return ack.version;
}

describe.each(variants)("an uploaded exercise with the new kinds ($name store)", (variant) => {
  it.each(["typed", "spoken"] as const)("validates and plays start to end (%s)", async (channel) => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "therapist", channel, agenda: [] });
    const therapist = await Participant.join(created.links.therapist!);
    const a = await Participant.join(created.links.a);
    const b = await Participant.join(created.links.b);
    open.push(therapist, a, b);
    const everyone = [therapist, a, b];
    const settle = async (v: number) => {
      await Promise.all(everyone.map((p) => p.waitForVersion(v)));
    };
    const typed = channel === "typed";

    // Uploaded as a therapist would paste it: plain JSON.
    const definition = JSON.parse(JSON.stringify(DATE_NIGHT));
    expect(validateExercise(definition)).toMatchObject({ ok: true });
    await sent(therapist, { type: "add-exercise", definition });
    expect(therapist.view.agenda.map((e) => e.id)).toEqual(["date-night"]);
    await sent(therapist, { type: "admit", partners: ["a", "b"] });
    await settle(await sent(therapist, { type: "start-exercise", exerciseId: "date-night", firstSpeaker: "b" }));

    // b answers about themself, a guesses; nothing of b's answer reaches a or the therapist before the reveal.
    expect(a.view.exercise?.step.question?.text).toBe(DATE_NIGHT.decks[0]!.questions[0]);
    const answer = typed ? "a flat white #b-answer#" : undefined;
    await settle(await sent(b, { type: "guess", ...(answer ? { text: answer } : {}) }));
    for (const p of [a, therapist]) {
      if (answer) expect(JSON.stringify(p.view)).not.toContain("#b-answer#");
      expect(p.view.exercise?.step.guess?.submitted).toEqual({ a: false, b: true });
    }
    await settle(await sent(a, { type: "guess", ...(typed ? { text: "tea #a-guess#" } : {}) }));
    for (const p of everyone) {
      expect(p.view.exercise?.step.guess?.revealed?.answer).toEqual(answer ? { text: answer } : {});
      expect(p.view.guesses).toHaveLength(1);
    }
    await settle(await sent(a, { type: "mark", mark: "not-quite" }));

    await settle(await sent(a, { type: "guess", choice: "out" }));
    expect(b.view.exercise?.step.guess?.yours).toBeUndefined();
    expect(JSON.stringify(b.view.exercise?.step.guess)).not.toContain('"choice"');
    await settle(await sent(b, { type: "guess", choice: "in" }));
    expect(therapist.view.exercise?.step.guess?.revealed).toEqual({
      answer: { choice: "in", label: "A night in" },
      guess: { choice: "out", label: "A night out" },
    });
    await settle(await sent(b, { type: "mark", mark: "close" }));

    // Ideas stay private until both are in; then the pick offers them all.
    await settle(await sent(a, { type: "answer", answer: { ideas: ["#idea-a-1#", "#idea-a-2#"] } }));
    for (const p of [b, therapist]) expect(JSON.stringify(p.view)).not.toContain("#idea-a-");
    await settle(await sent(b, { type: "answer", answer: { ideas: ["#idea-b-1#"] } }));
    const options = a.view.exercise!.step.pick!.options;
    expect(options.map((o) => o.label)).toEqual(["#idea-a-1#", "#idea-b-1#", "#idea-a-2#"]);
    await settle(await sent(a, { type: "pick", option: "b-0" }));
    expect(b.view.exercise?.step.pick?.picks).toEqual({ a: "b-0" });
    await settle(await sent(b, { type: "pick", option: "b-0" }));

    const when = new Date(Date.now() + 3 * 24 * 3_600_000).toISOString();
    const refusal = await b.send({ type: "agree", when: new Date(Date.now() + 8 * 24 * 3_600_000).toISOString() });
    expect(refusal).toMatchObject({ ok: false, error: { code: "INVALID_AGREEMENT" } });
    await settle(await sent(b, { type: "agree", when }));
    expect(a.view.exercise?.step.agreement?.offer).toMatchObject({ by: "b", when });
    await settle(await sent(a, { type: "acknowledge" }));

    // b holds the floor: b offers the promise, a acknowledges it.
    await settle(await sent(b, { type: "agree", option: "book" }));
    const last = await sent(a, { type: "acknowledge" });
    await settle(last);

    const expected = [
      { stepId: "when", by: "b", acknowledgedBy: "a", picked: "#idea-b-1#", when },
      { stepId: "promise", by: "b", acknowledgedBy: "a", what: "I'll book it", option: "book" },
    ];
    for (const p of everyone) {
      expect(p.view.completed.map((c) => [c.exerciseId, c.endedEarly])).toEqual([["date-night", false]]);
      expect(p.view.agreements).toMatchObject(expected);
    }
    // A fresh snapshot (from the store) says the same.
    const fresh: SessionView = await a.resync();
    expect(fresh.agreements).toEqual(a.view.agreements);
    expect(fresh.guesses).toEqual(a.view.guesses);
  });

  it("refuses a broken upload of the new kinds, naming each problem's path", async () => {
    const server = await startTestServer(variant.options());
    const created = await createTestSession(server.url, { mode: "therapist", channel: "typed", agenda: [] });
    const therapist = await Participant.join(created.links.therapist!);
    open.push(therapist);
    const broken = JSON.parse(JSON.stringify(DATE_NIGHT));
    broken.steps[0].question.deck = "missing";
    broken.steps[3].pick.from = "warm-up";
    broken.steps[4].agreement.withinHours = 0;
    const ack = await therapist.send({ type: "add-exercise", definition: broken });
    expect(ack.ok).toBe(false);
    if (ack.ok) return;
    expect(ack.error.code).toBe("INVALID_DEFINITION");
    const paths = ack.error.message.split("\n").map((line) => line.split(": ")[0]);
    expect(paths.sort()).toEqual(["steps[0].question.deck", "steps[3].pick.from", "steps[4].agreement.withinHours"]);
    expect(therapist.view.agenda).toEqual([]);
  });
});
