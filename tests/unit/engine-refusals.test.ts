/**
 * Every illegal command is refused with its specific code and leaves the state exactly as it was
 * (expectRefused deep-freezes the input and deep-compares it afterwards).
 */
import { describe, expect, it } from "vitest";
import { allowedCommands, apply, createSession } from "../../shared/engine.ts";
import type { Actor, CommandType, SessionState } from "../../shared/protocol.ts";
import { COMMAND_TYPES, LIMITS } from "../../shared/protocol.ts";
import { act, expectRefused, FLOOR, guidedSession, initFor, SAMPLE, T0, therapistSession } from "./fixtures.ts";

const LONG = "x".repeat(LIMITS.textMax + 1);
const THERAPIST_ONLY: CommandType[] = [
  "admit",
  "skip-step",
  "back-step",
  "hand-floor",
  "adjust-timer",
  "nudge",
  "message-both",
  "note",
  "step-out",
  "bring-back",
  "add-exercise",
];
const PACING: CommandType[] = ["start-exercise", "set-first-speaker", "pause", "resume", "end-exercise", "end-session"];
const PARTNER_VOICE: CommandType[] = ["say", "choose", "answer", "post", "end-turn", "call-time-out"];
const EXERCISE_COMMANDS: CommandType[] = [
  "say",
  "choose",
  "answer",
  "post",
  "end-turn",
  "time-up",
  "skip-step",
  "back-step",
  "hand-floor",
];

function guidedIn(exerciseId: string, channel: "typed" | "spoken" = "typed"): SessionState {
  return act(guidedSession(channel), "a", { type: "start-exercise", exerciseId }, T0);
}

function therapistIn(exerciseId: string, channel: "typed" | "spoken" = "typed"): SessionState {
  return act(therapistSession(channel).state, "therapist", { type: "start-exercise", exerciseId }, T0);
}

/**
 * A partner's own word, with rules of its own: what they tell the therapist alone about safety (open from the
 * waiting room and the waiting space too), and the closing reflection (only after the end; tested apart).
 */
const SAFETY_TYPES: string[] = ["safety-check", "ask-alone", "reflect"];

describe("parsing comes first", () => {
  const s = guidedIn("fx-dialogue");

  it.each([
    ["null", null],
    ["a number", 42],
    ["a string", "say"],
    ["an array", [{ type: "say" }]],
    ["an empty object", {}],
    ["an unknown type", { type: "dance" }],
    ["an extra key", { type: "say", text: "x", loud: true }],
    ["a wrong field type", { type: "say", text: 5 }],
    ["a nested object as type", { type: { toString: "say" } }],
  ])("refuses %s with INVALID_COMMAND", (_name, command) => {
    expectRefused(s, "a", command, "INVALID_COMMAND");
  });

  it("names the faulty field in the message", () => {
    expect(expectRefused(s, "a", { type: "choose" }, "INVALID_COMMAND")).toMatch(/^option: /);
    expect(expectRefused(s, "a", { type: "call-time-out", minutes: 5 }, "INVALID_COMMAND")).toMatch(/minutes/);
    expect(expectRefused(s, "therapist", { type: "adjust-timer", seconds: 0 }, "INVALID_COMMAND")).toMatch(/seconds/);
    expect(expectRefused(s, "a", { type: "answer", answer: { mood: 1 } }, "INVALID_COMMAND")).toMatch(/answer/);
  });

  it.each([
    ["say", { type: "say", text: LONG }],
    ["post", { type: "post", text: LONG }],
    ["answer note", { type: "answer", answer: { rating: 3, note: LONG } }],
    ["nudge", { type: "nudge", to: "a", text: LONG }],
    ["message-both", { type: "message-both", text: LONG }],
    ["note", { type: "note", text: LONG }],
    ["private-message", { type: "private-message", text: LONG }],
  ])("refuses over-long text in %s with TEXT_TOO_LONG, before the version check", (_name, command) => {
    expectRefused(s, "a", command, "TEXT_TOO_LONG", T0, { expectedVersion: 999 });
  });

  it("lets the system send only presence and time-up, and partners never presence", () => {
    expectRefused(s, "system", { type: "say", text: "hi" }, "INVALID_COMMAND");
    expectRefused(s, "system", { type: "end-session" }, "INVALID_COMMAND");
    expectRefused(s, "a", { type: "presence", seat: "a", online: true }, "INVALID_COMMAND");
    expectRefused(s, "system", { type: "presence", seat: "nobody", online: true }, "INVALID_COMMAND");
  });

  it("refuses an unknown actor and a time that is not a number", () => {
    expectRefused(s, "x" as Actor, { type: "end-turn" }, "INVALID_COMMAND");
    expectRefused(s, "a", { type: "pause" }, "INVALID_COMMAND", Number.NaN);
  });
});

describe("stale version and the end of the session", () => {
  it("refuses a stale expected version before anything else about the state", () => {
    const s = guidedIn("fx-dialogue");
    expectRefused(s, "a", { type: "say", text: "x" }, "STALE_VERSION", T0, { expectedVersion: s.version - 1 });
    const ended = act(s, "a", { type: "end-session" });
    expectRefused(ended, "a", { type: "say", text: "x" }, "STALE_VERSION", T0, { expectedVersion: 0 });
    expect(act(s, "a", { type: "say", text: "x" }, T0, { expectedVersion: s.version }).version).toBe(s.version + 1);
  });

  // All but the closing reflection, which is for exactly then (tests/unit/engine-reflection.test.ts).
  it.each(COMMAND_TYPES.filter((t) => t !== "reflect"))(
    "refuses %s from every seat after the end with SESSION_ENDED",
    (type) => {
      const guided = act(guidedSession(), "a", { type: "end-session" });
      expectRefused(guided, "a", SAMPLE[type], "SESSION_ENDED");
      const led = act(therapistSession().state, "therapist", { type: "end-session" });
      for (const seat of ["a", "b", "therapist"] as const) expectRefused(led, seat, SAMPLE[type], "SESSION_ENDED");
    },
  );

  it("refuses the system after the end too", () => {
    const ended = act(guidedSession(), "b", { type: "end-session" });
    expectRefused(ended, "system", { type: "time-up" }, "SESSION_ENDED");
    expectRefused(ended, "system", { type: "presence", seat: "a", online: false }, "SESSION_ENDED");
  });
});

describe("seat rules", () => {
  it.each(THERAPIST_ONLY)("refuses therapist-only %s from either partner with THERAPIST_ONLY", (type) => {
    const led = therapistIn("fx-talk");
    expectRefused(led, "a", SAMPLE[type], "THERAPIST_ONLY");
    expectRefused(led, "b", SAMPLE[type], "THERAPIST_ONLY");
    // In a guided session the partner a step times may extend it (see below); the other rules stay.
    if (type !== "adjust-timer") expectRefused(guidedIn("fx-talk"), "a", SAMPLE[type], "THERAPIST_ONLY");
  });

  it("lets the partner a guided step times give it more time, and nobody else, and never take time away", () => {
    const s = guidedIn("fx-talk");
    const speaker = s.turn!.speaker;
    const listener = speaker === "a" ? "b" : "a";
    expectRefused(s, listener, { type: "adjust-timer", seconds: 120 }, "NOT_YOUR_TURN");
    expectRefused(s, speaker, { type: "adjust-timer", seconds: -60 }, "INVALID_COMMAND");
    expectRefused(s, speaker, { type: "adjust-timer", seconds: 601 }, "INVALID_COMMAND");
    const before = s.turn!.deadline!;
    const after = act(s, speaker, { type: "adjust-timer", seconds: 120 }, s.turn!.stepStartedAt + 1000);
    expect(after.turn!.deadline).toBe(before + 120_000);
  });

  it.each(PACING)("refuses pacing %s from a partner in therapist mode with THERAPIST_ONLY", (type) => {
    expectRefused(therapistIn("fx-talk"), "b", SAMPLE[type], "THERAPIST_ONLY");
    expectRefused(therapistSession().state, "a", SAMPLE[type], "THERAPIST_ONLY");
  });

  it.each(PARTNER_VOICE)("refuses the partner's own %s from the therapist with PARTNER_ONLY", (type) => {
    expectRefused(therapistIn("fx-talk"), "therapist", SAMPLE[type], "PARTNER_ONLY");
    expectRefused(therapistIn("fx-checkin"), "therapist", SAMPLE[type], "PARTNER_ONLY");
    expectRefused(therapistSession().state, "therapist", SAMPLE[type], "PARTNER_ONLY");
  });

  it("lets the therapist act in a step whose actor is the therapist, and refuses partners there", () => {
    let s = therapistIn("fx-led");
    expectRefused(s, "a", { type: "say", text: "me?" }, "NOT_YOUR_TURN");
    s = act(s, "therapist", { type: "say", text: "Welcome." });
    expectRefused(s, "b", { type: "choose", option: "done" }, "NOT_YOUR_TURN");
    expectRefused(s, "therapist", { type: "call-time-out" }, "PARTNER_ONLY");
    s = act(s, "therapist", { type: "choose", option: "done" });
    expect(s.completed.map((c) => c.exerciseId)).toEqual(["fx-led"]);
  });

  it.each(COMMAND_TYPES)("refuses %s from the therapist seat in a guided session with NOT_IN_MODE", (type) => {
    expectRefused(guidedIn("fx-talk"), "therapist", SAMPLE[type], "NOT_IN_MODE");
  });

  it.each(COMMAND_TYPES.filter((t) => !SAFETY_TYPES.includes(t)))(
    "refuses %s from a partner not yet admitted with NOT_ADMITTED",
    (type) => {
      const waiting = therapistSession("typed", false).state;
      expectRefused(waiting, "a", SAMPLE[type], "NOT_ADMITTED");
      const half = act(waiting, "therapist", { type: "admit", partners: ["a"] });
      expectRefused(half, "b", SAMPLE[type], "NOT_ADMITTED");
    },
  );

  it.each(COMMAND_TYPES.filter((t) => !SAFETY_TYPES.includes(t)))(
    "refuses %s from a stepped-out partner with STEPPED_OUT",
    (type) => {
      const out = act(therapistIn("fx-talk"), "therapist", { type: "step-out", partner: "a" });
      expectRefused(out, "a", SAMPLE[type], "STEPPED_OUT");
    },
  );

  it("keeps the private channel to while someone is out, for the therapist and the partner who stayed", () => {
    const s = therapistIn("fx-talk");
    expectRefused(s, "therapist", SAMPLE["private-message"], "NOT_STEPPED_OUT");
    expectRefused(s, "a", SAMPLE["private-message"], "NOT_STEPPED_OUT");
    expectRefused(guidedIn("fx-talk"), "b", SAMPLE["private-message"], "NOT_STEPPED_OUT");
    const out = act(s, "therapist", { type: "step-out", partner: "b" });
    expectRefused(out, "b", SAMPLE["private-message"], "STEPPED_OUT");
    const s2 = act(out, "a", SAMPLE["private-message"]);
    expect(act(s2, "therapist", SAMPLE["private-message"]).privateMessages.map((m) => [m.seat, m.with])).toEqual([
      ["a", "a"],
      ["therapist", "a"],
    ]);
  });
});

describe("step rules", () => {
  it.each([...EXERCISE_COMMANDS.filter((t) => !THERAPIST_ONLY.includes(t)), "pause", "end-exercise"] as CommandType[])(
    "refuses %s in the lobby with NO_ACTIVE_EXERCISE",
    (type) => {
      expectRefused(guidedSession(), "a", SAMPLE[type], "NO_ACTIVE_EXERCISE");
    },
  );

  it.each(["skip-step", "back-step", "hand-floor", "adjust-timer"] as CommandType[])(
    "refuses the therapist's %s in the lobby with NO_ACTIVE_EXERCISE",
    (type) => {
      expectRefused(therapistSession().state, "therapist", SAMPLE[type], "NO_ACTIVE_EXERCISE");
    },
  );

  it("refuses a command of the wrong step kind with WRONG_STEP", () => {
    const say = guidedIn("fx-dialogue");
    expectRefused(say, "a", { type: "choose", option: "got-it" }, "WRONG_STEP");
    expectRefused(say, "a", { type: "answer", answer: { rating: 1 } }, "WRONG_STEP");
    expectRefused(say, "a", { type: "post", text: "x" }, "WRONG_STEP");
    expectRefused(say, "a", { type: "end-turn" }, "WRONG_STEP");
    expectRefused(guidedIn("fx-talk"), "a", { type: "say", text: "x" }, "WRONG_STEP");
    expectRefused(guidedIn("fx-checkin"), "b", { type: "say", text: "x" }, "WRONG_STEP");
  });

  it("refuses the wrong seat with NOT_YOUR_TURN", () => {
    const send = guidedIn("fx-dialogue");
    expect(expectRefused(send, "b", { type: "say", text: "x" }, "NOT_YOUR_TURN")).toMatch(/your turn comes next/);
    const mirror = act(send, "a", { type: "say", text: "x" });
    expectRefused(mirror, "a", { type: "say", text: "x" }, "NOT_YOUR_TURN");
    const check = act(mirror, "b", { type: "say", text: "y" });
    expectRefused(check, "b", { type: "choose", option: "got-it" }, "NOT_YOUR_TURN");
    expectRefused(guidedIn("fx-talk"), "b", { type: "end-turn" }, "NOT_YOUR_TURN");
    let both = guidedIn("fx-checkin");
    both = act(act(both, "a", SAMPLE.answer), "b", SAMPLE.answer);
    both = act(both, "a", { type: "say", text: "once" });
    expectRefused(both, "a", { type: "say", text: "twice" }, "NOT_YOUR_TURN");
  });

  it("requires text in a typed say and refuses it in a spoken one", () => {
    const typed = guidedIn("fx-dialogue", "typed");
    expectRefused(typed, "a", { type: "say" }, "TEXT_REQUIRED");
    expectRefused(typed, "a", { type: "say", text: "   " }, "TEXT_REQUIRED");
    const spoken = guidedIn("fx-dialogue", "spoken");
    expectRefused(spoken, "a", { type: "say", text: "typed anyway" }, "TEXT_NOT_ALLOWED");
    expectRefused(guidedIn("fx-talk", "spoken"), "b", { type: "post", text: "typed" }, "TEXT_NOT_ALLOWED");
  });

  it("refuses an empty post as invalid", () => {
    expect(expectRefused(guidedIn("fx-talk"), "a", { type: "post", text: " " }, "INVALID_COMMAND")).toMatch(/^text/);
  });

  it("refuses an option the step does not have with UNKNOWN_OPTION", () => {
    let s = guidedIn("fx-dialogue");
    s = act(act(s, "a", { type: "say", text: "x" }), "b", { type: "say", text: "y" });
    expect(expectRefused(s, "a", { type: "choose", option: "maybe" }, "UNKNOWN_OPTION")).toMatch(/got-it/);
  });

  it("takes one private answer per partner and step", () => {
    const s = act(guidedIn("fx-checkin"), "a", { type: "answer", answer: { rating: 4, feeling: "calm" } });
    expectRefused(s, "a", { type: "answer", answer: { rating: 5, feeling: "sad" } }, "ALREADY_ANSWERED");
  });

  it.each([
    ["no rating", "fx-checkin", { feeling: "calm" }],
    ["a rating below the range", "fx-checkin", { rating: 0, feeling: "calm" }],
    ["a rating above the range", "fx-checkin", { rating: 11, feeling: "calm" }],
    ["no feeling", "fx-checkin", { rating: 5 }],
    ["a feeling off the list", "fx-checkin", { rating: 5, feeling: "elated" }],
    ["a note where none is asked", "fx-rate", { rating: 2, note: "extra" }],
    ["a feeling where none is asked", "fx-rate", { rating: 2, feeling: "calm" }],
    ["a rating above a 0..5 range", "fx-rate", { rating: 6 }],
  ])("refuses an answer with %s as INVALID_ANSWER", (_name, exerciseId, answer) => {
    expect(expectRefused(guidedIn(exerciseId), "b", { type: "answer", answer }, "INVALID_ANSWER")).toMatch(/^answer\./);
  });

  it("refuses time-up without a timer or before the deadline", () => {
    expectRefused(guidedIn("fx-dialogue"), "system", { type: "time-up" }, "NO_TIMER");
    const talk = guidedIn("fx-talk");
    expectRefused(talk, "system", { type: "time-up" }, "DEADLINE_NOT_REACHED", T0 + 59_999);
    expectRefused(talk, "b", { type: "time-up" }, "DEADLINE_NOT_REACHED", T0 + 1);
  });

  it("refuses starting an exercise during one, an unknown one, one not in this mode, or past the agenda", () => {
    expectRefused(guidedIn("fx-talk"), "a", { type: "start-exercise", exerciseId: "fx-floor" }, "EXERCISE_IN_PROGRESS");
    expectRefused(guidedSession(), "a", { type: "start-exercise", exerciseId: "no-such" }, "UNKNOWN_EXERCISE");
    expectRefused(guidedSession(), "a", { type: "start-exercise" }, "UNKNOWN_EXERCISE");
    expectRefused(guidedSession(), "b", { type: "start-exercise", exerciseId: "fx-led" }, "NOT_IN_MODE");
    const done = act(act(guidedSession("typed", ["fx-floor"]), "a", { type: "start-exercise" }), "a", {
      type: "end-exercise",
    });
    expectRefused(done, "a", { type: "start-exercise" }, "UNKNOWN_EXERCISE");
  });

  it.each(EXERCISE_COMMANDS)("refuses %s while paused with PAUSED", (type) => {
    const paused = act(therapistIn("fx-talk"), "therapist", { type: "pause" });
    const actor = THERAPIST_ONLY.includes(type) ? "therapist" : "a";
    expectRefused(paused, type === "time-up" ? "system" : actor, SAMPLE[type], "PAUSED", T0 + 3_600_000);
  });

  it("refuses pausing twice and resuming when not paused", () => {
    const s = guidedIn("fx-talk");
    expectRefused(act(s, "a", { type: "pause" }), "b", { type: "pause" }, "PAUSED");
    expectRefused(s, "a", { type: "resume" }, "NOT_PAUSED");
  });

  it.each(EXERCISE_COMMANDS)("refuses %s on a time-out with ON_TIME_OUT", (type) => {
    const onBreak = act(therapistIn("fx-talk"), "b", { type: "call-time-out" });
    const actor = THERAPIST_ONLY.includes(type) ? "therapist" : "a";
    expectRefused(onBreak, type === "time-up" ? "system" : actor, SAMPLE[type], "ON_TIME_OUT", T0 + 3_600_000);
  });

  it("refuses a second time-out, ending none, and starting an exercise during one", () => {
    const onBreak = act(guidedSession(), "a", { type: "call-time-out" });
    expectRefused(onBreak, "b", { type: "call-time-out" }, "ON_TIME_OUT");
    expectRefused(onBreak, "b", { type: "start-exercise", exerciseId: "fx-talk" }, "ON_TIME_OUT");
    expectRefused(guidedSession(), "a", { type: "end-time-out" }, "NOT_ON_TIME_OUT");
  });

  it.each(EXERCISE_COMMANDS)("refuses %s from anyone while a partner is stepped out with STEPPED_OUT", (type) => {
    const out = act(therapistIn("fx-talk"), "therapist", { type: "step-out", partner: "b" });
    const actor = THERAPIST_ONLY.includes(type) ? "therapist" : "a";
    expectRefused(out, type === "time-up" ? "system" : actor, SAMPLE[type], "STEPPED_OUT", T0 + 3_600_000);
  });

  it("refuses back-step at the first step and timer changes without a timer", () => {
    const s = therapistIn("fx-dialogue");
    expectRefused(s, "therapist", { type: "back-step" }, "NO_PREVIOUS_STEP");
    expectRefused(s, "therapist", { type: "adjust-timer", seconds: 60 }, "NO_TIMER");
  });

  it("refuses admitting partners who are already in", () => {
    expectRefused(therapistSession().state, "therapist", SAMPLE.admit, "ALREADY_ADMITTED");
    const half = act(therapistSession("typed", false).state, "therapist", { type: "admit", partners: ["a"] });
    expectRefused(half, "therapist", { type: "admit", partners: ["a"] }, "ALREADY_ADMITTED");
    expect(act(half, "therapist", { type: "admit", partners: ["a", "b"] }).admitted).toEqual({ a: true, b: true });
  });

  it("refuses stepping out twice and bringing back nobody", () => {
    const s = therapistIn("fx-talk");
    expectRefused(s, "therapist", { type: "bring-back" }, "NOT_STEPPED_OUT");
    const out = act(s, "therapist", { type: "step-out", partner: "a" });
    expectRefused(out, "therapist", { type: "step-out", partner: "b" }, "ALREADY_STEPPED_OUT");
  });
});

describe("add-exercise", () => {
  const base = () => therapistSession().state;

  it("lists every problem of an invalid definition as 'path: message'", () => {
    const bad = {
      ...FLOOR,
      id: "Bad Id",
      steps: [
        { ...FLOOR.steps[0], next: { to: "nowhere" } },
        { id: "pick", title: "Pick", actor: "both", kind: "choose", prompt: { all: "Pick." } },
      ],
    };
    const message = expectRefused(base(), "therapist", { type: "add-exercise", definition: bad }, "INVALID_DEFINITION");
    const lines = message.split("\n");
    expect(lines).toContain(
      "steps[0].next.to: unknown step 'nowhere' (use a step id of this exercise, '@end' or '@cycle')",
    );
    expect(lines).toContain("steps[1].options: a 'choose' step needs options");
    expect(lines).toContain("steps[1].actor: a 'choose' step needs one actor, not 'both'");
    expect(lines.some((l) => l.startsWith("id: "))).toBe(true);
  });

  it("refuses garbage as a definition", () => {
    expect(expectRefused(base(), "therapist", { type: "add-exercise", definition: 7 }, "INVALID_DEFINITION")).toMatch(
      /^\(root\): /,
    );
  });

  it("refuses an id the catalogue or the session already has", () => {
    const s = base();
    expectRefused(
      s,
      "therapist",
      { type: "add-exercise", definition: { ...FLOOR, id: "check-in" } },
      "INVALID_DEFINITION",
    );
    expectRefused(s, "therapist", { type: "add-exercise", definition: FLOOR }, "INVALID_DEFINITION");
  });

  it("refuses more than the session limit with TOO_MANY_EXERCISES", () => {
    let s = base();
    let n = s.custom.length;
    while (n < LIMITS.customExercisesMax) {
      s = act(s, "therapist", { type: "add-exercise", definition: { ...FLOOR, id: `fx-more-${n}` } });
      n++;
    }
    expect(s.agenda.length).toBe(1 + LIMITS.customExercisesMax);
    expectRefused(
      s,
      "therapist",
      { type: "add-exercise", definition: { ...FLOOR, id: "fx-one-more" } },
      "TOO_MANY_EXERCISES",
    );
  });
});

describe("allowedCommands agrees with apply", () => {
  const states: [string, SessionState][] = [
    ["guided lobby", guidedSession()],
    ["guided dialogue", guidedIn("fx-dialogue")],
    ["guided paused talk", act(guidedIn("fx-talk"), "a", { type: "pause" })],
    ["therapist waiting room", therapistSession("typed", false).state],
    ["therapist check-in", therapistIn("fx-checkin", "spoken")],
    ["therapist step-out", act(therapistIn("fx-talk"), "therapist", { type: "step-out", partner: "a" })],
    ["therapist time-out", act(therapistIn("fx-dialogue"), "b", { type: "call-time-out" })],
    ["ended", act(guidedSession(), "a", { type: "end-session" })],
  ];

  it.each(states)("in %s, each disabled control carries the code apply gives", (_name, state) => {
    for (const seat of ["a", "b", "therapist"] as const) {
      const allowed = allowedCommands(state, seat, T0);
      expect(allowed.map((c) => c.type)).toEqual(COMMAND_TYPES);
      for (const entry of allowed) {
        const result = apply(state, SAMPLE[entry.type], seat, T0);
        if (!entry.allowed) {
          expect(result.ok ? "applied" : result.error.code, `${seat} ${entry.type}`).toBe(entry.code);
          expect(entry.reason && result.ok === false && result.error.message).toBe(entry.reason);
        }
      }
    }
  });

  it("gives a human reason beside a disabled control", () => {
    const mirror = act(createSession(initFor("guided", "spoken", ["check-in"])), "a", { type: "start-exercise" });
    const say = allowedCommands(mirror, "a", T0).find((c) => c.type === "say");
    expect(say).toMatchObject({ allowed: false, code: "WRONG_STEP" });
    const speaking = allowedCommands(guidedIn("fx-dialogue"), "b", T0).find((c) => c.type === "say");
    expect(speaking).toEqual({
      type: "say",
      allowed: false,
      code: "NOT_YOUR_TURN",
      reason: "This part is your partner's: your turn comes next.",
    });
  });
});
