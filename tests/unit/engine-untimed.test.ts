/**
 * Sessions created without timers (WCAG 2.2 SC 2.2.1): a step whose exercise gives it a duration runs untimed.
 * The engine never sets a deadline, so nothing ever arms the server's time-up, and no view shows a clock.
 */
import { describe, expect, it } from "vitest";
import { CATALOGUE } from "../../shared/catalogue/index.ts";
import { coreOf, createSession, nextDeadline, replay, viewFor } from "../../shared/engine.ts";
import { type ExerciseDefinition, ExerciseSchema } from "../../shared/exercise-format.ts";
import { ErrorCode, type SessionState } from "../../shared/protocol.ts";
import { act, DIALOGUE, expectRefused, initFor, logOf, T0 } from "./fixtures.ts";

const at = (seconds: number) => T0 + seconds * 1000;

/** No trace of a timer anywhere a seat or the server could read one. */
function expectUntimed(state: SessionState): void {
  expect(state.turn?.deadline).toBeUndefined();
  expect(state.turn?.remainingMs).toBeUndefined();
  expect(nextDeadline(state)).toBeUndefined();
  expect(nextDeadline(coreOf(state))).toBeUndefined();
  const seats = state.mode === "therapist" ? (["a", "b", "therapist"] as const) : (["a", "b"] as const);
  for (const seat of seats) {
    const step = viewFor(state, seat).exercise?.step;
    expect(step, seat).toBeDefined();
    expect(step?.deadline, seat).toBeUndefined();
    expect(step?.remainingMs, seat).toBeUndefined();
    expect(step?.durationSeconds, seat).toBeUndefined();
    // Where the exercise would have timed the step, every seat learns that it is untimed (for a calm note).
    expect(step?.untimed, seat).toBe(true);
    const allowed = viewFor(state, seat).allowed;
    expect(allowed.find((c) => c.type === "time-up")?.allowed, seat).toBe(false);
    expect(allowed.find((c) => c.type === "adjust-timer")?.allowed, seat).toBe(false);
  }
}

describe("a session created with timers: false", () => {
  it("is marked untimed; a session created without the option (or with true) is not", () => {
    expect(createSession({ ...initFor("guided", "typed", ["stress-reducing"]), timers: false }).untimed).toBe(true);
    expect(createSession(initFor("guided", "typed", ["stress-reducing"])).untimed).toBeUndefined();
    expect(createSession({ ...initFor("guided", "typed"), timers: true }).untimed).toBeUndefined();
  });

  it("runs a timed catalogue step with no deadline; time-up and adjust-timer are refused, the turn ends when the talker says", () => {
    const init = { ...initFor("guided", "spoken", ["stress-reducing"]), timers: false };
    let s = createSession(init);
    s = act(s, "a", { type: "start-exercise", firstSpeaker: "a" }, at(1));
    expect(s.turn?.stepId).toBe("talk");
    expectUntimed(s);

    // Long after the ten minutes the exercise gives, the server still has nothing to fire and time-up is refused.
    expectRefused(s, "system", { type: "time-up" }, ErrorCode.NO_TIMER, at(3600));
    expectRefused(s, "a", { type: "adjust-timer", seconds: 120 }, ErrorCode.NO_TIMER, at(3600));

    // A pause and a break neither arm a timer on the way out.
    s = act(s, "b", { type: "pause" }, at(10));
    s = act(s, "a", { type: "resume" }, at(20));
    expectUntimed(s);
    s = act(s, "b", { type: "call-time-out" }, at(30));
    s = act(s, "b", { type: "end-time-out" }, at(40));
    expectUntimed(s);

    // The talker ends their own turn; the next turn is untimed too.
    s = act(s, "a", { type: "end-turn" }, at(4000));
    expect(s.turn?.speaker).toBe("b");
    expect(s.turn?.cycle).toBe(1);
    expectUntimed(s);

    // Replaying the log from the same creation rebuilds the same untimed state.
    expect(replay(init, logOf(s))).toStrictEqual(s);
  });

  it("the same exercise in a session with timers has its deadline, for contrast", () => {
    let s = createSession(initFor("guided", "spoken", ["stress-reducing"]));
    s = act(s, "a", { type: "start-exercise", firstSpeaker: "a" }, at(1));
    expect(s.turn?.deadline).toBe(at(1) + 600_000);
    expect(nextDeadline(s)).toBe(at(1) + 600_000);
    expect(viewFor(s, "a").exercise?.step.durationSeconds).toBe(600);
    expect(viewFor(s, "a").exercise?.step.untimed).toBeUndefined();
  });

  it("leaves an uploaded exercise's timed step untimed too, and the therapist cannot add time to it", () => {
    let s = createSession({ ...initFor("therapist", "typed", ["check-in"]), timers: false });
    s = act(s, "therapist", { type: "add-exercise", definition: DIALOGUE });
    s = act(s, "therapist", { type: "admit", partners: ["a", "b"] });
    s = act(s, "therapist", { type: "start-exercise", exerciseId: "fx-dialogue", firstSpeaker: "a" }, at(1));
    // A step its exercise does not time says nothing about timers.
    expect(viewFor(s, "a").exercise?.step.untimed).toBeUndefined();
    s = act(s, "a", { type: "say", text: "one thing" }, at(2));
    s = act(s, "b", { type: "say", text: "what I heard" }, at(3));
    // "check" gives itself 30 seconds in the exercise's data.
    expect(s.turn?.stepId).toBe("check");
    expectUntimed(s);
    expectRefused(s, "therapist", { type: "adjust-timer", seconds: 60 }, ErrorCode.NO_TIMER, at(4));
    expectRefused(s, "system", { type: "time-up" }, ErrorCode.NO_TIMER, at(600));
    s = act(s, "a", { type: "choose", option: "got-it" }, at(900));
    expect(s.turn?.cycle).toBe(1);
  });
});

/** What partner a reads about `def` in a therapist session (every catalogue exercise runs there): lobby and intro. */
function wordsRead(def: ExerciseDefinition, timers: boolean): { summary?: string; intro?: string } {
  let s = createSession({ ...initFor("therapist", "typed", [def.id]), ...(timers ? {} : { timers: false }) });
  s = act(s, "therapist", { type: "admit", partners: ["a", "b"] });
  const summary = viewFor(s, "a").agenda.find((e) => e.id === def.id)?.summary;
  s = act(s, "therapist", { type: "start-exercise", exerciseId: def.id, firstSpeaker: "a" }, at(1));
  const intro = viewFor(s, "a").exercise?.intro;
  return { ...(summary !== undefined ? { summary } : {}), ...(intro !== undefined ? { intro } : {}) };
}

/** Words that promise a timer, or a turn measured in minutes. */
const TIMER_WORDS = /\btime[dr]s?\b|\bminutes?\b|\bclock\b/i;

describe("the words of an exercise follow the session's timers", () => {
  for (const def of CATALOGUE) {
    const timedSteps = def.steps.some((step) => step.durationSeconds !== undefined);
    it(`${def.id}: a session without timers never reads of one${timedSteps ? " (it has its own untimed words)" : ""}`, () => {
      const timed = wordsRead(def, true);
      const untimed = wordsRead(def, false);
      // With timers the exercise reads as written.
      expect(timed.summary).toBe(def.summary);
      expect(timed.intro).toBe(def.intro);
      expect(untimed.summary).toBeDefined();
      expect(untimed.intro === undefined).toBe(def.intro === undefined);
      for (const words of [untimed.summary, untimed.intro]) {
        if (words === undefined) continue;
        // No timer words at all where the exercise times a step; elsewhere, nothing that speaks of a timer.
        expect(words).not.toMatch(timedSteps ? TIMER_WORDS : /\btime[dr]s?\b/i);
      }
      if (!timedSteps) expect(untimed).toStrictEqual(timed);
    });
  }

  it("the format takes untimed words only from an exercise with a timed step, and an untimed intro only with an intro", () => {
    const base = structuredClone(DIALOGUE) as ExerciseDefinition;
    const untimedWords = { summary: "Take your turns at your own pace." };
    expect(ExerciseSchema.safeParse({ ...base, untimed: untimedWords }).success).toBe(true);
    const noTimer = { ...base, steps: base.steps.map(({ durationSeconds: _, ...step }) => step) };
    const refused = ExerciseSchema.safeParse({ ...noTimer, untimed: untimedWords });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((i) => i.message)).toContain(
      "only an exercise with a timed step has untimed words",
    );
    const { intro: _, ...noIntro } = base;
    const introless = ExerciseSchema.safeParse({ ...noIntro, untimed: { intro: "At your own pace." } });
    expect(introless.error?.issues.map((i) => i.message)).toContain(
      "an untimed intro replaces the 'intro', so set one",
    );
  });

  it("an uploaded exercise's untimed words reach the partners of an untimed session", () => {
    const definition = {
      ...DIALOGUE,
      intro: "Three timed minutes each.",
      untimed: { intro: "Take the time you need." },
    };
    let s = createSession({ ...initFor("therapist", "typed", ["check-in"]), timers: false });
    s = act(s, "therapist", { type: "add-exercise", definition });
    s = act(s, "therapist", { type: "admit", partners: ["a", "b"] });
    s = act(s, "therapist", { type: "start-exercise", exerciseId: DIALOGUE.id, firstSpeaker: "a" }, at(1));
    for (const seat of ["a", "b", "therapist"] as const) {
      expect(viewFor(s, seat).exercise?.intro, seat).toBe("Take the time you need.");
    }
  });
});
