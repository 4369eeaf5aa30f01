/**
 * Therapist controls (admit, skip/back, hand the floor, timer, coaching, step-out, uploads) and the privacy
 * boundaries of viewFor/eventsFor: waiting room, unrevealed answers, nudges, notes, the private channel.
 */
import { describe, expect, it } from "vitest";
import { apply, eventsFor, nextDeadline, viewFor } from "../../shared/engine.ts";
import type { EngineEvent, SessionState } from "../../shared/protocol.ts";
import { act, FLOOR, guidedSession, T0, therapistSession } from "./fixtures.ts";

const at = (seconds: number) => T0 + seconds * 1000;

function therapistIn(exerciseId: string, firstSpeaker: "a" | "b" = "a"): SessionState {
  return act(therapistSession().state, "therapist", { type: "start-exercise", exerciseId, firstSpeaker }, at(0));
}

const ALL_EVENTS: EngineEvent[] = [
  { type: "turn-changed", speaker: "a", stepId: "s", exerciseId: "e" },
  { type: "step-changed", stepId: "s", exerciseId: "e" },
  { type: "exercise-started", exerciseId: "e" },
  { type: "exercise-ended", exerciseId: "e", endedEarly: false },
  { type: "revealed", exerciseId: "e", stepId: "s" },
  { type: "paused" },
  { type: "resumed" },
  { type: "time-out-called", by: "a", returnAt: 1 },
  { type: "time-out-ended" },
  { type: "nudged", to: "a" },
  { type: "nudged", to: "b" },
  { type: "admitted", partner: "a" },
  { type: "stepped-out", partner: "b" },
  { type: "brought-back" },
  { type: "session-ended" },
];

describe("waiting room", () => {
  it("shows a partner not yet admitted nothing of the session", () => {
    let s = therapistSession("typed", false).state;
    s = act(s, "therapist", { type: "start-exercise", exerciseId: "fx-dialogue" });
    s = act(s, "therapist", { type: "message-both", text: "Welcome, both." });
    s = act(s, "system", { type: "presence", seat: "therapist", online: true });
    const view = viewFor(s, "a");
    expect(view).toMatchObject({
      waiting: true,
      names: {},
      agenda: [],
      exercise: null,
      transcript: [],
      phase: "lobby",
      presence: { a: false, b: false, therapist: false },
    });
    const json = JSON.stringify(view);
    for (const secret of ["Ann", "Ben", "Welcome", "fx-dialogue", "Fixture"]) expect(json).not.toContain(secret);
    // Everything waits for admission but the safety question and the quiet signal, which are the partner's own.
    const open = view.allowed.filter((c) => c.allowed).map((c) => c.type);
    expect(open.sort()).toEqual(["ask-alone", "safety-check"]);
    expect(view.allowed.filter((c) => !c.allowed).every((c) => c.code === "NOT_ADMITTED")).toBe(true);
    expect(eventsFor(s, "a", ALL_EVENTS)).toEqual([]);
  });

  it("admits one partner, then the other, each with an event", () => {
    const s = therapistSession("typed", false).state;
    const r = apply(s, { type: "admit", partners: ["b", "b"] }, "therapist", T0);
    expect(r.ok && r.events).toEqual([{ type: "admitted", partner: "b" }]);
    if (!r.ok) return;
    expect(r.state.admitted).toEqual({ a: false, b: true });
    expect(viewFor(r.state, "b").waiting).toBe(false);
    const r2 = apply(r.state, { type: "admit", partners: ["a", "b"] }, "therapist", T0);
    expect(r2.ok && r2.events).toEqual([{ type: "admitted", partner: "a" }]);
  });
});

describe("pacing controls", () => {
  it("skip-step follows next, or the first option of a choose step", () => {
    let s = therapistIn("fx-dialogue");
    s = act(s, "therapist", { type: "skip-step" });
    expect(s.turn?.stepId).toBe("mirror");
    s = act(s, "therapist", { type: "skip-step" });
    expect(s.turn?.stepId).toBe("check");
    s = act(s, "therapist", { type: "skip-step" });
    expect(s.turn).toMatchObject({ stepId: "send", speaker: "b", cycle: 1 });
  });

  it("back-step re-enters the previous step with its speaker and cycle", () => {
    let s = therapistIn("fx-dialogue");
    s = act(s, "a", { type: "say", text: "x" });
    s = act(s, "b", { type: "say", text: "y" });
    s = act(s, "a", { type: "choose", option: "got-it" });
    expect(s.turn).toMatchObject({ stepId: "send", speaker: "b", cycle: 1 });
    s = act(s, "therapist", { type: "back-step" }, at(50));
    expect(s.turn).toMatchObject({ stepId: "check", speaker: "a", cycle: 0, deadline: at(80), stepStartedAt: at(50) });
    s = act(s, "therapist", { type: "back-step" });
    expect(s.turn?.stepId).toBe("mirror");
    expect(s.turn?.history.map((h) => h.stepId)).toEqual(["send", "mirror"]);
  });

  it("hand-floor at the first step gives the other partner a fresh turn there (see engine-hand-floor.test.ts)", () => {
    const s = therapistIn("fx-talk");
    const r = apply(s, { type: "hand-floor" }, "therapist", at(5));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.state.turn).toMatchObject({ stepId: "talk", speaker: "b", cycle: 0, deadline: at(5) + 60_000 });
    expect(r.events).toEqual([
      { type: "step-changed", stepId: "talk", exerciseId: "fx-talk" },
      { type: "turn-changed", speaker: "b", stepId: "talk", exerciseId: "fx-talk" },
    ]);
    expect(act(r.state, "b", { type: "end-turn" }).turn?.speaker).toBe("a");
  });

  it("adjust-timer moves a running deadline, never below now, and a frozen one's remaining time", () => {
    let s = therapistIn("fx-talk");
    s = act(s, "therapist", { type: "adjust-timer", seconds: 120 }, at(10));
    expect(s.turn?.deadline).toBe(at(180));
    s = act(s, "therapist", { type: "adjust-timer", seconds: -3600 }, at(20));
    expect(s.turn?.deadline).toBe(at(20));
    s = act(s, "therapist", { type: "adjust-timer", seconds: 40 }, at(20));
    s = act(s, "therapist", { type: "pause" }, at(30));
    expect(s.turn?.remainingMs).toBe(30_000);
    s = act(s, "therapist", { type: "adjust-timer", seconds: 15 }, at(31));
    expect(s.turn?.remainingMs).toBe(45_000);
    s = act(s, "therapist", { type: "adjust-timer", seconds: -100 }, at(31));
    expect(s.turn?.remainingMs).toBe(0);
  });
});

describe("coaching and privacy", () => {
  it("a nudge reaches only its partner and the therapist", () => {
    const s = therapistIn("fx-dialogue");
    const r = apply(s, { type: "nudge", to: "b", text: "Try starting with 'I feel'." }, "therapist", at(1));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(viewFor(r.state, "b").nudges).toEqual([
      { v: s.version + 1, at: at(1), to: "b", text: "Try starting with 'I feel'." },
    ]);
    expect(viewFor(r.state, "therapist").nudges).toHaveLength(1);
    expect(JSON.stringify(viewFor(r.state, "a"))).not.toContain("I feel'");
    expect(eventsFor(r.state, "a", r.events)).toEqual([]);
    expect(eventsFor(r.state, "b", r.events)).toEqual([{ type: "nudged", to: "b" }]);
    expect(eventsFor(r.state, "therapist", r.events)).toEqual([{ type: "nudged", to: "b" }]);
  });

  it("a message to both goes into the transcript; a note stays with the therapist", () => {
    let s = therapistIn("fx-dialogue");
    s = act(s, "therapist", { type: "message-both", text: "Take a breath together." }, at(2));
    s = act(s, "therapist", { type: "note", text: "Ben interrupts when anxious." }, at(3));
    expect(s.transcript.at(-1)).toMatchObject({ seat: "therapist", kind: "message", text: "Take a breath together." });
    for (const seat of ["a", "b"] as const) {
      const view = viewFor(s, seat);
      expect(view.notes).toEqual([]);
      expect(JSON.stringify(view)).not.toContain("interrupts");
      expect(view.transcript.at(-1)?.text).toBe("Take a breath together.");
    }
    expect(viewFor(s, "therapist").notes).toEqual([{ v: s.version, at: at(3), text: "Ben interrupts when anxious." }]);
  });

  it("hides an unrevealed answer from the other partner and the therapist, then reveals both", () => {
    let s = therapistIn("fx-checkin");
    s = act(s, "a", { type: "answer", answer: { rating: 2, feeling: "sad", note: "secret-of-ann" } });
    const a = viewFor(s, "a");
    const b = viewFor(s, "b");
    const t = viewFor(s, "therapist");
    expect(a.exercise?.step).toMatchObject({ answered: { a: true, b: false }, yourMove: false });
    expect(a.exercise?.step.yourAnswer).toEqual({ rating: 2, feeling: "sad", note: "secret-of-ann" });
    expect(b.exercise?.step).toMatchObject({ answered: { a: true, b: false }, yourMove: true });
    expect(b.exercise?.step.yourAnswer).toBeUndefined();
    expect(t.exercise?.step.yourAnswer).toBeUndefined();
    expect(JSON.stringify(b)).not.toContain("secret-of-ann");
    expect(JSON.stringify(t)).not.toContain("secret-of-ann");
    s = act(s, "b", { type: "answer", answer: { rating: 9, feeling: "calm" } });
    for (const seat of ["a", "b", "therapist"] as const) {
      expect(viewFor(s, seat).checkIns[0]?.answers.a.note).toBe("secret-of-ann");
    }
  });

  it("steps a partner out, freezes the timer, and keeps the private channel from them", () => {
    let s = therapistIn("fx-talk");
    const out = apply(s, { type: "step-out", partner: "b" }, "therapist", at(10));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    s = out.state;
    expect(s.turn?.remainingMs).toBe(50_000);
    expect(nextDeadline(s)).toBeUndefined();
    s = act(s, "therapist", { type: "private-message", text: "How are you, really?" }, at(11));
    s = act(s, "a", { type: "private-message", text: "Scared to say it." }, at(12));
    const b = viewFor(s, "b");
    expect(b.steppedOut).toBe("b");
    expect(b.privateMessages).toEqual([]);
    expect(JSON.stringify(b)).not.toContain("Scared");
    // All but the quiet signal (and the safety question, past for an admitted partner) wait for the return.
    expect(
      b.allowed
        .filter((c) => !["ask-alone", "safety-check", "reflect"].includes(c.type))
        .every((c) => c.code === "STEPPED_OUT"),
    ).toBe(true);
    expect(b.allowed.find((c) => c.type === "ask-alone")?.allowed).toBe(true);
    expect(viewFor(s, "a").steppedOut).toBe("b");
    expect(viewFor(s, "a").privateMessages.map((m) => m.text)).toEqual(["How are you, really?", "Scared to say it."]);
    expect(viewFor(s, "therapist").privateMessages).toHaveLength(2);
    expect(eventsFor(s, "b", out.events)).toEqual([{ type: "stepped-out", partner: "b" }]);
    expect(eventsFor(s, "b", ALL_EVENTS).map((e) => e.type)).toEqual(["stepped-out", "brought-back", "session-ended"]);
    const back = apply(s, { type: "bring-back" }, "therapist", at(100));
    expect(back.ok).toBe(true);
    if (!back.ok) return;
    expect(back.state.steppedOut).toBeNull();
    expect(back.state.turn).toMatchObject({ stepId: "talk", speaker: "a", deadline: at(150) });
    expect(eventsFor(back.state, "b", back.events)).toEqual([{ type: "brought-back" }]);
    expect(viewFor(back.state, "b").privateMessages).toEqual([]);
  });

  it("the therapist hears every event; a partner all but a nudge to the other", () => {
    const s = therapistIn("fx-talk");
    expect(eventsFor(s, "therapist", ALL_EVENTS)).toEqual(ALL_EVENTS);
    expect(eventsFor(s, "a", ALL_EVENTS)).toEqual(ALL_EVENTS.filter((e) => !(e.type === "nudged" && e.to === "b")));
  });
});

describe("views", () => {
  it("shows each role its own prompt and stems, falling back to 'all', and whose move it is", () => {
    const s = act(guidedSession(), "a", { type: "start-exercise", exerciseId: "fx-dialogue", firstSpeaker: "b" });
    const b = viewFor(s, "b");
    const a = viewFor(s, "a");
    expect(b.exercise).toMatchObject({
      id: "fx-dialogue",
      speaker: "b",
      listener: "a",
      stepIndex: 0,
      stepCount: 3,
      cycles: 2,
    });
    expect(b.exercise?.step).toMatchObject({
      role: "speaker",
      prompt: "Share one thing.",
      stems: ["I feel"],
      yourMove: true,
    });
    expect(a.exercise?.step).toMatchObject({
      role: "listener",
      prompt: "Listen closely.",
      stems: ["What I hear is"],
      yourMove: false,
    });
    expect(b.agenda).toEqual([]);
    expect(b.names).toEqual({ a: "Ann", b: "Ben" });
  });

  it("shows options, timers and answer fields", () => {
    let s = therapistIn("fx-dialogue");
    s = act(act(s, "a", { type: "say", text: "x" }), "b", { type: "say", text: "y" }, at(1));
    const step = viewFor(s, "a").exercise?.step;
    expect(step?.options?.map((o) => o.id)).toEqual(["got-it", "not-quite", "more", "swap", "stop"]);
    expect(step).toMatchObject({ deadline: at(31), durationSeconds: 30, yourMove: true });
    const t = viewFor(s, "therapist");
    expect(t.exercise?.step).toMatchObject({ role: "therapist", prompt: "Did that land?", yourMove: false });
    const paused = act(s, "therapist", { type: "pause" }, at(11));
    expect(viewFor(paused, "a").exercise?.step).toMatchObject({ remainingMs: 20_000 });
    const checkin = viewFor(therapistIn("fx-checkin"), "b").exercise?.step;
    expect(checkin?.answerFields).toEqual({
      rating: { min: 1, max: 10 },
      feelings: ["calm", "tense", "sad"],
      note: true,
    });
  });

  it("lists the agenda with titles, uploads included, and an uploaded exercise runs", () => {
    let s = therapistSession().state;
    s = act(s, "therapist", { type: "add-exercise", definition: { ...FLOOR, id: "fx-new", title: "New one" } });
    const agenda = viewFor(s, "a").agenda;
    expect(agenda[0]?.id).toBe("check-in");
    expect(agenda.at(-1)).toEqual({ id: "fx-new", title: "New one", summary: FLOOR.summary, turns: true });
    s = act(s, "therapist", { type: "start-exercise", exerciseId: "fx-new" });
    expect(s.turn?.exerciseId).toBe("fx-new");
  });
});
