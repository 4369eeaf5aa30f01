/**
 * The engine's accepted paths: session creation, starting exercises, every step kind, transitions and cycles,
 * timers (deadlines, time-up, pause, time-out), ending, nextDeadline and replay.
 */
import { describe, expect, it } from "vitest";
import { apply, createSession, nextDeadline, replay } from "../../shared/engine.ts";
import type { SessionState } from "../../shared/protocol.ts";
import { act, CHECKIN, deepFreeze, guidedSession, initFor, logOf, T0, therapistSession } from "./fixtures.ts";

const at = (seconds: number) => T0 + seconds * 1000;

describe("createSession", () => {
  it("starts at version 0 in the lobby with nobody present", () => {
    const s = createSession(initFor("guided", "typed", ["check-in", "appreciation"]));
    expect(s).toMatchObject({
      id: "s-test",
      mode: "guided",
      channel: "typed",
      version: 0,
      createdAt: T0,
      phase: "lobby",
      turn: null,
      agenda: ["check-in", "appreciation"],
      agendaNext: 0,
      names: { a: "Ann", b: "Ben" },
      presence: { a: false, b: false, therapist: false },
      admitted: { a: true, b: true },
      paused: null,
      timeOut: null,
      steppedOut: null,
      custom: [],
    });
  });

  it("admits nobody up front in therapist mode", () => {
    expect(createSession(initFor("therapist", "spoken")).admitted).toEqual({ a: false, b: false });
  });

  it("keeps only the names given, so the state survives a JSON round trip unchanged", () => {
    const s = createSession({ ...initFor("guided", "typed"), names: { a: "Ann", b: undefined } });
    expect(s.names).toStrictEqual({ a: "Ann" });
    expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s);
  });

  it("throws naming an unknown agenda id", () => {
    expect(() => createSession(initFor("guided", "typed", ["check-in", "no-such-thing"]))).toThrow(/no-such-thing/);
  });
});

describe("start-exercise", () => {
  it("takes the next agenda entry by default, 'a' speaking first, and moves the agenda on", () => {
    const s0 = createSession(initFor("guided", "typed", ["check-in", "appreciation"]));
    const r = apply(s0, { type: "start-exercise" }, "b", T0);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.state.phase).toBe("exercise");
    expect(r.state.agendaNext).toBe(1);
    expect(r.state.turn).toMatchObject({ exerciseId: "check-in", speaker: "a", cycle: 0, stepIndex: 0 });
    expect(r.events[0]).toEqual({ type: "exercise-started", exerciseId: "check-in" });
    expect(r.events).toContainEqual({
      type: "turn-changed",
      speaker: "a",
      stepId: r.state.turn!.stepId,
      exerciseId: "check-in",
    });
  });

  it("moves agendaNext past a named agenda entry at or after it, and leaves it for one off the agenda", () => {
    const s0 = guidedSession("typed", ["fx-floor", "fx-talk", "fx-dialogue"]);
    const s1 = act(s0, "a", { type: "start-exercise", exerciseId: "fx-dialogue", firstSpeaker: "b" });
    expect(s1.agendaNext).toBe(3);
    expect(s1.turn?.speaker).toBe("b");
    const s2 = act(act(s1, "a", { type: "end-exercise" }), "a", { type: "start-exercise", exerciseId: "fx-floor" });
    expect(s2.agendaNext).toBe(3);
    const s3 = act(guidedSession("typed", ["fx-floor"]), "a", { type: "start-exercise", exerciseId: "fx-talk" });
    expect(s3.agendaNext).toBe(0);
  });

  it("enters the first step with a deadline when it is timed", () => {
    const s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-talk" }, at(5));
    expect(s.turn).toMatchObject({
      stepId: "talk",
      stepStartedAt: at(5),
      deadline: at(65),
      answers: {},
      history: [{ stepId: "talk", speaker: "a", cycle: 0 }],
    });
    expect(nextDeadline(s)).toBe(at(65));
  });
});

describe("say and choose: transitions, loops and cycles", () => {
  it("runs the dialogue with its loops, swaps roles each cycle and ends after two cycles (typed)", () => {
    let s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-dialogue" }, at(0));
    s = act(s, "a", { type: "say", text: "I felt alone tonight." }, at(1));
    expect(s.turn?.stepId).toBe("mirror");
    s = act(s, "b", { type: "say", text: "You felt alone." }, at(2));
    expect(s.turn).toMatchObject({ stepId: "check", deadline: at(32) });
    s = act(s, "a", { type: "choose", option: "not-quite" }, at(3));
    expect(s.turn?.stepId).toBe("mirror");
    s = act(s, "b", { type: "say", text: "You felt alone tonight." }, at(4));
    s = act(s, "a", { type: "choose", option: "more" }, at(5));
    expect(s.turn?.stepId).toBe("send");
    s = act(s, "a", { type: "say", text: "And tired." }, at(6));
    s = act(s, "b", { type: "say", text: "And tired." }, at(7));
    const r = apply(s, { type: "choose", option: "got-it" }, "a", at(8));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    s = r.state;
    expect(s.turn).toMatchObject({ stepId: "send", speaker: "b", cycle: 1, stepIndex: 0 });
    expect(r.events).toContainEqual({ type: "turn-changed", speaker: "b", stepId: "send", exerciseId: "fx-dialogue" });
    s = act(s, "b", { type: "say", text: "My turn." }, at(9));
    s = act(s, "a", { type: "say", text: "Your turn." }, at(10));
    const end = apply(s, { type: "choose", option: "got-it" }, "b", at(11));
    expect(end.ok).toBe(true);
    if (!end.ok) return;
    expect(end.state.phase).toBe("lobby");
    expect(end.state.turn).toBeNull();
    expect(end.state.completed).toEqual([{ exerciseId: "fx-dialogue", at: at(11), endedEarly: false }]);
    expect(end.events).toContainEqual({ type: "exercise-ended", exerciseId: "fx-dialogue", endedEarly: false });
    const kinds = end.state.transcript.map((e) => `${e.seat}:${e.kind}:${e.stepId}:${e.text ?? e.option}`);
    expect(kinds).toEqual([
      "a:say:send:I felt alone tonight.",
      "b:say:mirror:You felt alone.",
      "a:choice:check:not-quite",
      "b:say:mirror:You felt alone tonight.",
      "a:choice:check:more",
      "a:say:send:And tired.",
      "b:say:mirror:And tired.",
      "a:choice:check:got-it",
      "b:say:send:My turn.",
      "a:say:mirror:Your turn.",
      "b:choice:check:got-it",
    ]);
    expect(end.state.transcript[2]).toMatchObject({ v: 4, at: at(3), label: "Not quite", exerciseId: "fx-dialogue" });
  });

  it("records spoken steps without text", () => {
    let s = act(guidedSession("spoken"), "b", { type: "start-exercise", exerciseId: "fx-dialogue", firstSpeaker: "b" });
    s = act(s, "b", { type: "say" });
    expect(s.transcript).toEqual([{ v: 2, at: T0, seat: "b", kind: "say", exerciseId: "fx-dialogue", stepId: "send" }]);
  });

  it("swaps roles on a transition that asks for it, keeping the cycle", () => {
    let s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-dialogue" });
    s = act(s, "a", { type: "say", text: "x" });
    s = act(s, "b", { type: "say", text: "y" });
    s = act(s, "a", { type: "choose", option: "swap" });
    expect(s.turn).toMatchObject({ stepId: "send", speaker: "b", cycle: 0 });
  });

  it("@end ends the exercise from any step, and a floor without cycle count passes forever", () => {
    let s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-floor" });
    for (let i = 0; i < 25; i++) s = act(s, i % 2 === 0 ? "a" : "b", { type: "say", text: `turn ${i}` });
    expect(s.turn).toMatchObject({ speaker: "b", cycle: 25 });
    let d = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-dialogue" });
    d = act(act(d, "a", { type: "say", text: "x" }), "b", { type: "say", text: "y" });
    d = act(d, "a", { type: "choose", option: "stop" });
    expect(d.completed).toEqual([{ exerciseId: "fx-dialogue", at: T0, endedEarly: false }]);
  });

  it("a 'both' say step completes once each partner has said their part", () => {
    let s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-checkin" });
    s = act(s, "a", { type: "answer", answer: { rating: 3, feeling: "tense" } });
    s = act(s, "b", { type: "answer", answer: { rating: 8, feeling: "calm" } });
    expect(s.turn?.stepId).toBe("together");
    s = act(s, "b", { type: "say", text: "hope" });
    expect(s.turn).toMatchObject({ stepId: "together", said: ["b"] });
    s = act(s, "a", { type: "say", text: "relief" });
    expect(s.phase).toBe("lobby");
    expect(s.completed.map((c) => c.exerciseId)).toEqual(["fx-checkin"]);
  });
});

describe("private answers", () => {
  it("keeps the first answer in the turn, then reveals both at once and moves on", () => {
    let s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-checkin" }, at(0));
    const r1 = apply(s, { type: "answer", answer: { rating: 2, feeling: " sad ", note: "long week" } }, "b", at(1));
    expect(r1.ok && r1.events).toEqual([]);
    if (!r1.ok) return;
    s = r1.state;
    expect(s.turn?.answers).toEqual({ b: { rating: 2, feeling: "sad", note: "long week" } });
    expect(s.checkIns).toEqual([]);
    const r2 = apply(s, { type: "answer", answer: { rating: 7, feeling: "calm" } }, "a", at(2));
    expect(r2.ok).toBe(true);
    if (!r2.ok) return;
    expect(r2.state.checkIns).toEqual([
      {
        v: 3,
        at: at(2),
        exerciseId: "fx-checkin",
        stepId: "feel",
        answers: { a: { rating: 7, feeling: "calm" }, b: { rating: 2, feeling: "sad", note: "long week" } },
      },
    ]);
    expect(r2.events[0]).toEqual({ type: "revealed", exerciseId: "fx-checkin", stepId: "feel" });
    expect(r2.state.turn).toMatchObject({ stepId: "together", answers: {} });
  });

  it("runs the catalogue check-in by its id", () => {
    let s = act(createSession(initFor("guided", "spoken", ["check-in"])), "a", { type: "start-exercise" });
    expect(s.turn?.exerciseId).toBe("check-in");
    s = act(s, "a", { type: "answer", answer: { rating: 5, feeling: "calm" } });
    s = act(s, "b", { type: "answer", answer: { rating: 6, feeling: "tired" } });
    expect(s.checkIns).toHaveLength(1);
  });
});

describe("talk steps", () => {
  it("lets both post in typed mode and the speaker end the turn; roles swap each cycle", () => {
    let s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-talk" }, at(0));
    s = act(s, "a", { type: "post", text: "Work was loud." }, at(1));
    s = act(s, "b", { type: "post", text: "That sounds draining." }, at(2));
    expect(s.transcript.map((e) => [e.seat, e.kind])).toEqual([
      ["a", "post"],
      ["b", "post"],
    ]);
    s = act(s, "a", { type: "end-turn" }, at(3));
    expect(s.turn).toMatchObject({ speaker: "b", cycle: 1, deadline: at(63) });
    s = act(s, "b", { type: "end-turn" }, at(4));
    expect(s.phase).toBe("lobby");
  });

  it("time-up moves on once the deadline has passed, from the system or a seat", () => {
    let s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-talk" }, at(0));
    s = act(s, "system", { type: "time-up" }, at(60));
    expect(s.turn).toMatchObject({ speaker: "b", deadline: at(120) });
    s = act(s, "a", { type: "time-up" }, at(500));
    expect(s.phase).toBe("lobby");
  });

  it("time-up on a choose step drops the deadline and waits for the choice", () => {
    let s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-dialogue" }, at(0));
    s = act(act(s, "a", { type: "say", text: "x" }, at(1)), "b", { type: "say", text: "y" }, at(2));
    expect(nextDeadline(s)).toBe(at(32));
    s = act(s, "system", { type: "time-up" }, at(32));
    expect(s.turn?.stepId).toBe("check");
    expect(s.turn?.deadline).toBeUndefined();
    expect(nextDeadline(s)).toBeUndefined();
    s = act(s, "a", { type: "choose", option: "got-it" }, at(40));
    expect(s.turn?.speaker).toBe("b");
  });
});

describe("pause, resume and time-out", () => {
  function talking(): SessionState {
    return act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-talk" }, at(0));
  }

  it("pause freezes the remaining time and resume restores it", () => {
    const p = apply(talking(), { type: "pause" }, "b", at(20));
    expect(p.ok && p.events).toEqual([{ type: "paused" }]);
    if (!p.ok) return;
    expect(p.state.paused).toEqual({ at: at(20), by: "b" });
    expect(p.state.turn).toMatchObject({ remainingMs: 40_000 });
    expect(p.state.turn?.deadline).toBeUndefined();
    expect(nextDeadline(p.state)).toBeUndefined();
    const r = act(p.state, "a", { type: "resume" }, at(500));
    expect(r.paused).toBeNull();
    expect(r.turn?.deadline).toBe(at(540));
    expect(r.turn?.remainingMs).toBeUndefined();
    expect(nextDeadline(r)).toBe(at(540));
  });

  it("a time-out (default 20 minutes) freezes the step and resumes at the very same step", () => {
    let s = act(talking(), "a", { type: "post", text: "hello" }, at(10));
    const c = apply(s, { type: "call-time-out" }, "b", at(15));
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(c.state.timeOut).toEqual({ by: "b", at: at(15), returnAt: at(15) + 20 * 60_000 });
    expect(c.events).toEqual([{ type: "time-out-called", by: "b", returnAt: at(15) + 20 * 60_000 }]);
    expect(c.state.turn?.remainingMs).toBe(45_000);
    s = act(c.state, "a", { type: "end-time-out" }, at(3000));
    expect(s.timeOut).toBeNull();
    expect(s.turn).toMatchObject({ stepId: "talk", speaker: "a", cycle: 0, deadline: at(3045) });
  });

  it("a time-out may be called in the lobby and with a chosen length", () => {
    const s = act(guidedSession(), "a", { type: "call-time-out", minutes: 45 }, at(0));
    expect(s.timeOut?.returnAt).toBe(at(45 * 60));
  });

  it("the timer stays frozen until both the pause and the time-out are over", () => {
    let s = act(talking(), "a", { type: "pause" }, at(10));
    s = act(s, "b", { type: "call-time-out" }, at(20));
    s = act(s, "a", { type: "resume" }, at(30));
    expect(s.turn?.remainingMs).toBe(50_000);
    expect(nextDeadline(s)).toBeUndefined();
    s = act(s, "b", { type: "end-time-out" }, at(40));
    expect(s.turn?.deadline).toBe(at(90));
  });
});

describe("ending", () => {
  it("end-exercise ends it early and clears a pause", () => {
    let s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-talk" }, at(0));
    s = act(s, "a", { type: "pause" }, at(1));
    const r = apply(s, { type: "end-exercise" }, "b", at(2));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.state).toMatchObject({ phase: "lobby", turn: null, paused: null });
    expect(r.state.completed).toEqual([{ exerciseId: "fx-talk", at: at(2), endedEarly: true, by: "b" }]);
    expect(r.events).toEqual([{ type: "exercise-ended", exerciseId: "fx-talk", endedEarly: true }]);
  });

  it("end-session ends a running exercise early and the session", () => {
    const s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-floor" }, at(0));
    const r = apply(s, { type: "end-session" }, "b", at(9));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.state.phase).toBe("ended");
    expect(r.state.turn).toBeNull();
    expect(r.state.completed).toEqual([{ exerciseId: "fx-floor", at: at(9), endedEarly: true, by: "b" }]);
    expect(r.events.map((e) => e.type)).toEqual(["exercise-ended", "session-ended"]);
    expect(nextDeadline(r.state)).toBeUndefined();
  });
});

describe("versions, log, purity and replay", () => {
  it("each applied command adds one version and one log entry with who, what and when", () => {
    const s0 = createSession(initFor("guided", "typed", ["check-in"]));
    const s1 = act(s0, "system", { type: "presence", seat: "a", online: true }, at(1));
    const s2 = act(s1, "a", { type: "start-exercise" }, at(2), { expectedVersion: 1 });
    expect(s1.presence.a).toBe(true);
    expect([s0.version, s1.version, s2.version]).toEqual([0, 1, 2]);
    expect(logOf(s2)).toEqual([
      { v: 1, at: at(1), actor: "system", command: { type: "presence", seat: "a", online: true } },
      { v: 2, at: at(2), actor: "a", command: { type: "start-exercise" } },
    ]);
  });

  it("never mutates the state it is given", () => {
    let s = deepFreeze(act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-checkin" }));
    const before = structuredClone(s);
    s = act(s, "a", { type: "answer", answer: { rating: 1, feeling: "sad" } });
    s = act(deepFreeze(s), "b", { type: "answer", answer: { rating: 9, feeling: "calm" } });
    s = act(deepFreeze(s), "a", { type: "say", text: "ok" });
    s = act(deepFreeze(s), "a", { type: "pause" });
    s = act(deepFreeze(s), "a", { type: "resume" });
    expect(s.version).toBe(before.version + 5);
    expect(before.turn?.answers).toEqual({});
  });

  it("replay rebuilds the exact state from the log, uploaded exercises included", () => {
    const { init, state } = therapistSession("typed");
    let s = act(state, "therapist", { type: "start-exercise", exerciseId: "fx-talk", firstSpeaker: "b" }, at(1));
    s = act(s, "b", { type: "post", text: "hi" }, at(2));
    s = act(s, "therapist", { type: "note", text: "private" }, at(3));
    s = act(s, "system", { type: "time-up" }, at(61));
    s = act(s, "a", { type: "call-time-out" }, at(70));
    expect(replay(init, logOf(s))).toStrictEqual(s);
    expect(JSON.parse(JSON.stringify(s))).toStrictEqual(s);
  });

  it("the uploaded definition is logged in its validated form", () => {
    const { state } = therapistSession();
    const entry = logOf(state).find((e) => e.command.type === "add-exercise");
    expect(entry?.command).toEqual({ type: "add-exercise", definition: state.custom[0] });
    expect(state.custom.map((d) => d.id)).toContain(CHECKIN.id);
  });

  it("replay refuses a log that does not apply", () => {
    const init = initFor("guided", "typed");
    expect(() => replay(init, [{ v: 1, at: T0, actor: "a", command: { type: "resume" } }])).toThrow(/NOT_PAUSED/);
  });
});
