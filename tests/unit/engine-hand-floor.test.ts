/**
 * Handing the floor, over every catalogue exercise that runs with a therapist: from any step of a cycle the new
 * speaker's turn starts at the first step of the cycle, with the roles swapped, never partway through the old
 * speaker's turn (so nobody is asked to confirm a mirror of their own words). Back one step undoes it.
 */
import { describe, expect, it } from "vitest";
import { apply, createSession, viewFor } from "../../shared/engine.ts";
import { CATALOGUE } from "../../shared/catalogue/index.ts";
import type { SessionState } from "../../shared/protocol.ts";
import { otherPartner } from "../../shared/protocol.ts";
import { act, initFor, T0 } from "./fixtures.ts";

const THERAPIST_EXERCISES = CATALOGUE.filter((d) => !d.modes || d.modes.includes("therapist"));

function started(exerciseId: string): SessionState {
  let s = createSession(initFor("therapist", "typed", []));
  s = act(s, "therapist", { type: "admit", partners: ["a", "b"] }, T0);
  return act(s, "therapist", { type: "start-exercise", exerciseId, firstSpeaker: "a", seed: 7 }, T0 + 1000);
}

/** Every state of the first cycle, walking it by skipping each step in turn (bounded). */
function firstCycle(exerciseId: string): SessionState[] {
  const states: SessionState[] = [];
  let s = started(exerciseId);
  for (let i = 0; i < 60 && s.phase === "exercise" && s.turn?.cycle === 0 && s.turn.speaker === "a"; i++) {
    states.push(s);
    s = act(s, "therapist", { type: "skip-step" }, T0 + 2000 + i * 1000);
  }
  return states;
}

describe("hand the floor over every catalogue exercise", () => {
  it("covers every exercise the therapist can run", () => {
    expect(THERAPIST_EXERCISES.length).toBe(CATALOGUE.length);
    expect(THERAPIST_EXERCISES.length).toBeGreaterThanOrEqual(12);
  });

  it.each(THERAPIST_EXERCISES.map((d) => [d.id, d] as const))(
    "%s: from every step of the cycle, the other partner's turn starts at the first step",
    (_id, def) => {
      const states = firstCycle(def.id);
      expect(states.length).toBeGreaterThan(0);
      const midCycle = states.filter((s) => s.turn!.stepIndex > 0);
      if (def.steps.length > 1) expect(midCycle.length).toBeGreaterThan(0);
      for (const s of states) {
        const before = s.turn!;
        const now = T0 + 500_000;
        const r = apply(s, { type: "hand-floor" }, "therapist", now);
        expect(r.ok, `${def.id} at ${before.stepId}`).toBe(true);
        if (!r.ok) continue;
        const after = r.state.turn!;
        const newSpeaker = otherPartner(before.speaker);
        expect(after.speaker).toBe(newSpeaker);
        expect(after.stepIndex).toBe(0);
        expect(after.stepId).toBe(def.steps[0]!.id);
        const lastCycle = def.cycles === undefined ? Number.POSITIVE_INFINITY : def.cycles - 1;
        expect(after.cycle).toBe(before.stepIndex > 0 ? Math.min(before.cycle + 1, lastCycle) : before.cycle);
        expect(r.state.phase).toBe("exercise");
        expect(r.events).toContainEqual({
          type: "turn-changed",
          speaker: newSpeaker,
          stepId: def.steps[0]!.id,
          exerciseId: def.id,
        });
        // Each partner's screen shows the new roles at the first step; nothing of the old step is carried over.
        const mine = viewFor(r.state, newSpeaker).exercise!;
        const theirs = viewFor(r.state, before.speaker).exercise!;
        expect(mine.step.id).toBe(def.steps[0]!.id);
        expect(mine.step.role).toBe("speaker");
        expect(theirs.step.role).toBe("listener");
        expect(after.answers).toEqual({});
        expect(after.said).toBeUndefined();
        expect(after.offer).toBeUndefined();
        // A fresh turn gets the first step's own timer.
        const duration = def.steps[0]!.durationSeconds;
        if (duration !== undefined) expect(after.deadline).toBe(now + duration * 1000);
        // Back one step returns to where the floor was handed, with the old speaker.
        const back = apply(r.state, { type: "back-step" }, "therapist", now + 1000);
        expect(back.ok).toBe(true);
        if (back.ok) {
          expect(back.state.turn).toMatchObject({
            stepId: before.stepId,
            speaker: before.speaker,
            cycle: before.cycle,
          });
        }
      }
    },
  );

  it("handing the floor on the last round never ends the exercise, and the round then ends it as usual", () => {
    let s = started("stress-reducing");
    s = act(s, "a", { type: "end-turn" }, T0 + 60_000);
    expect(s.turn).toMatchObject({ cycle: 1, speaker: "b", stepIndex: 0 });
    s = act(s, "therapist", { type: "hand-floor" }, T0 + 70_000);
    expect(s.turn).toMatchObject({ cycle: 1, speaker: "a", stepIndex: 0 });
    s = act(s, "a", { type: "end-turn" }, T0 + 80_000);
    expect(s.phase).toBe("lobby");
  });

  it("in the intentional dialogue, the new speaker sends first rather than confirming a mirror", () => {
    let s = started("intentional-dialogue");
    s = act(s, "a", { type: "say", text: "Is now a good time?" }, T0 + 5_000);
    s = act(s, "b", { type: "choose", option: "now" }, T0 + 8_000);
    s = act(s, "a", { type: "say", text: "I felt left out on Sunday." }, T0 + 10_000);
    expect(s.turn!.stepId).toBe("mirror");
    s = act(s, "therapist", { type: "hand-floor" }, T0 + 20_000);
    expect(s.turn).toMatchObject({ stepId: "invite", speaker: "b", cycle: 1 });
    const b = viewFor(s, "b").exercise!.step;
    expect(b).toMatchObject({ role: "speaker", yourMove: true, id: "invite" });
    expect(viewFor(s, "a").exercise!.step.yourMove).toBe(false);
  });
});
