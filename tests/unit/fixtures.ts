/**
 * Small exercise definitions and helpers for the engine tests. The fixtures are uploaded with add-exercise
 * (therapist mode) so that replay(init, log) rebuilds them from the log, like a real custom exercise.
 */
import { expect } from "vitest";
import { type ApplyOptions, apply, createSession, type SessionInit } from "../../shared/engine.ts";
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";
import type { Actor, Command, CommandType, ErrorCode, LogEntry, SessionState } from "../../shared/protocol.ts";

/** Speaker says, listener mirrors, speaker checks: every kind of loop a dialogue has. Two cycles. */
export const DIALOGUE = {
  id: "fx-dialogue",
  title: "Fixture dialogue",
  summary: "Send, mirror, check.",
  intro: "A test dialogue.",
  cycles: 2,
  steps: [
    {
      id: "send",
      title: "Send",
      actor: "speaker",
      kind: "say",
      prompt: { speaker: "Share one thing.", all: "Listen closely." },
      stems: { speaker: ["I feel"], listener: ["What I hear is"] },
      next: { to: "mirror" },
    },
    {
      id: "mirror",
      title: "Mirror",
      actor: "listener",
      kind: "say",
      prompt: { listener: "Say back what you heard.", speaker: "Hear yourself reflected." },
      next: { to: "check" },
    },
    {
      id: "check",
      title: "Check",
      actor: "speaker",
      kind: "choose",
      durationSeconds: 30,
      prompt: { all: "Did that land?" },
      options: [
        { id: "got-it", label: "You got it", next: { to: "@cycle" } },
        { id: "not-quite", label: "Not quite", next: { to: "mirror" } },
        { id: "more", label: "There is more", next: { to: "send" } },
        { id: "swap", label: "Your turn", next: { to: "send", swapRoles: true } },
        { id: "stop", label: "Stop here", next: { to: "@end" } },
      ],
    },
  ],
} satisfies ExerciseDefinition;

/** A private check-in followed by a step both partners say once. */
export const CHECKIN = {
  id: "fx-checkin",
  title: "Fixture check-in",
  summary: "Answer privately, then both speak.",
  cycles: 1,
  steps: [
    {
      id: "feel",
      title: "Feel",
      actor: "both",
      kind: "private-answer",
      durationSeconds: 120,
      prompt: { all: "How are you?" },
      answer: { rating: { min: 1, max: 10 }, feelings: ["calm", "tense", "sad"], note: true },
      next: { to: "together" },
    },
    {
      id: "together",
      title: "Together",
      actor: "both",
      kind: "say",
      prompt: { all: "Each say one word." },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;

/** A timed talk turn per partner. */
export const TALK = {
  id: "fx-talk",
  title: "Fixture talk",
  summary: "Timed turns.",
  cycles: 2,
  steps: [
    {
      id: "talk",
      title: "Talk",
      actor: "speaker",
      kind: "talk",
      durationSeconds: 60,
      prompt: { speaker: "Talk about your day.", listener: "Listen; no advice." },
      next: { to: "@cycle" },
    },
  ],
} satisfies ExerciseDefinition;

/** The floor passes back and forth until someone ends the exercise (no cycle count). */
export const FLOOR = {
  id: "fx-floor",
  title: "Fixture floor",
  summary: "Endless floor.",
  steps: [
    { id: "speak", title: "Speak", actor: "speaker", kind: "say", prompt: { all: "Speak." }, next: { to: "@cycle" } },
  ],
} satisfies ExerciseDefinition;

/** Steps the therapist acts in; runs in therapist mode only. */
export const LED = {
  id: "fx-led",
  title: "Fixture led",
  summary: "Therapist-led.",
  modes: ["therapist"],
  steps: [
    {
      id: "open",
      title: "Open",
      actor: "therapist",
      kind: "say",
      prompt: { therapist: "Open the session.", all: "Your therapist opens." },
      next: { to: "pick" },
    },
    {
      id: "pick",
      title: "Pick",
      actor: "therapist",
      kind: "choose",
      prompt: { all: "Where next?" },
      options: [{ id: "done", label: "Done", next: { to: "@end" } }],
    },
  ],
} satisfies ExerciseDefinition;

/** A private rating with nothing else to fill in. */
export const RATE = {
  id: "fx-rate",
  title: "Fixture rating",
  summary: "Rate only.",
  steps: [
    {
      id: "rate",
      title: "Rate",
      actor: "both",
      kind: "private-answer",
      prompt: { all: "Rate it." },
      answer: { rating: { min: 0, max: 5 } },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;

/**
 * Guess steps: a typed (or, spoken, held-in-mind) answer to a drawn question, a pick-one guess, then a say step
 * that shows the same question again. Two cycles, so each partner answers about themself once.
 */
export const GUESSING = {
  id: "fx-guess",
  title: "Fixture guess",
  summary: "Answer about yourself; your partner guesses.",
  cycles: 2,
  decks: [{ id: "about", title: "About you", questions: ["First question?", "Second question?", "Third question?"] }],
  steps: [
    {
      id: "open",
      title: "Open guess",
      actor: "both",
      kind: "guess",
      question: { deck: "about" },
      prompt: { speaker: "Answer about yourself.", listener: "Guess their answer." },
      guess: { reveal: { all: "Both are out. How close?" } },
      next: { to: "drink" },
    },
    {
      id: "drink",
      title: "Pick-one guess",
      actor: "both",
      kind: "guess",
      prompt: { speaker: "Tea or coffee?", listener: "Which would they pick?" },
      guess: {
        choices: [
          { id: "tea", label: "Tea" },
          { id: "coffee", label: "Coffee" },
        ],
        reveal: { speaker: "Your partner guessed.", listener: "Here is their answer." },
      },
      next: { to: "more" },
    },
    {
      id: "more",
      title: "Say more",
      actor: "speaker",
      kind: "say",
      question: { deck: "about", draw: "same" },
      prompt: { speaker: "Say more about it.", listener: "Listen." },
      next: { to: "@cycle" },
    },
  ],
} satisfies ExerciseDefinition;

/**
 * Ideas listed privately, one picked together, a time agreed together about it; then a pick by one partner, an
 * offer the other acknowledges, and an agreement recorded by one partner alone.
 */
export const PLAN = {
  id: "fx-plan",
  title: "Fixture plan",
  summary: "Ideas, a pick, agreements.",
  steps: [
    {
      id: "ideas",
      title: "Ideas",
      actor: "both",
      kind: "private-answer",
      prompt: { all: "List up to three ideas." },
      answer: { ideas: { max: 3 } },
      next: { to: "together" },
    },
    {
      id: "together",
      title: "Pick together",
      actor: "both",
      kind: "pick",
      pick: { from: "ideas" },
      prompt: { all: "Pick one together." },
      next: { to: "when" },
    },
    {
      id: "when",
      title: "When",
      actor: "both",
      kind: "agreement",
      prompt: { all: "When will you do it?" },
      agreement: {
        picked: "together",
        when: "required",
        withinHours: 48,
        what: "optional",
        options: [
          { id: "home", label: "At home" },
          { id: "out", label: "Out" },
        ],
      },
      next: { to: "second" },
    },
    {
      id: "second",
      title: "Second pick",
      actor: "listener",
      kind: "pick",
      pick: { from: "ideas" },
      prompt: { listener: "Pick another.", speaker: "Your partner picks." },
      next: { to: "promise" },
    },
    {
      id: "promise",
      title: "Promise",
      actor: "speaker",
      kind: "agreement",
      prompt: { speaker: "Offer a promise.", listener: "Your partner offers a promise." },
      agreement: { what: "required", acknowledge: true },
      next: { to: "note" },
    },
    {
      id: "note",
      title: "Note",
      actor: "listener",
      kind: "agreement",
      prompt: { listener: "Note anything else.", speaker: "Your partner notes it." },
      agreement: { what: "optional", when: "optional" },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;

export const FIXTURES: ExerciseDefinition[] = [DIALOGUE, CHECKIN, TALK, FLOOR, LED, RATE, GUESSING, PLAN];

/** A command of each type that passes parsing (the payload is valid; whether it applies depends on the state). */
export const SAMPLE: Record<CommandType, Command> = {
  "start-exercise": { type: "start-exercise", exerciseId: "fx-dialogue" },
  say: { type: "say", text: "something" },
  choose: { type: "choose", option: "got-it" },
  "set-first-speaker": { type: "set-first-speaker", partner: "b" },
  answer: { type: "answer", answer: { rating: 3, feeling: "calm" } },
  post: { type: "post", text: "a message" },
  guess: { type: "guess", text: "a guess" },
  mark: { type: "mark", mark: "close" },
  pick: { type: "pick", option: "a-0" },
  agree: { type: "agree", what: "Saturday walk" },
  acknowledge: { type: "acknowledge" },
  "end-turn": { type: "end-turn" },
  "time-up": { type: "time-up" },
  "call-time-out": { type: "call-time-out" },
  "end-time-out": { type: "end-time-out" },
  pause: { type: "pause" },
  resume: { type: "resume" },
  "end-exercise": { type: "end-exercise" },
  "end-session": { type: "end-session" },
  admit: { type: "admit", partners: ["a", "b"] },
  "skip-step": { type: "skip-step" },
  "back-step": { type: "back-step" },
  "hand-floor": { type: "hand-floor" },
  "adjust-timer": { type: "adjust-timer", seconds: 30 },
  nudge: { type: "nudge", to: "a", text: "try 'I feel'" },
  "message-both": { type: "message-both", text: "breathe" },
  note: { type: "note", text: "observed" },
  "step-out": { type: "step-out", partner: "b" },
  "bring-back": { type: "bring-back" },
  "add-exercise": { type: "add-exercise", definition: { ...FLOOR, id: "fx-extra" } },
  "private-message": { type: "private-message", text: "just us" },
  "safety-check": { type: "safety-check", answer: "not-now" },
  "ask-alone": { type: "ask-alone" },
  "seen-ask": { type: "seen-ask", partner: "a" },
  reflect: { type: "reflect", heard: 7, keep: true },
};

export const T0 = 1_700_000_000_000;

/** Session parameters for tests. */
export function initFor(
  mode: SessionInit["mode"],
  channel: SessionInit["channel"],
  agenda: string[] = [],
): SessionInit {
  return { id: "s-test", mode, channel, agenda, names: { a: "Ann", b: "Ben" }, createdAt: T0 };
}

/** Applies a command that must be accepted and returns the new state. */
export function act(
  state: SessionState,
  actor: Actor,
  command: unknown,
  now = T0,
  options?: ApplyOptions,
): SessionState {
  const result = apply(state, command, actor, now, options);
  if (!result.ok)
    throw new Error(
      `expected ${JSON.stringify(command)} by ${actor} to apply: ${result.error.code} ${result.error.message}`,
    );
  remember(result.state, [...logOf(state), result.entry]);
  return result.state;
}

/** The log entries of the commands that led to each state built here (the engine returns them one by one). */
const logs = new WeakMap<object, LogEntry[]>();

/** Records that `state` was reached by `log`. */
export function remember(state: SessionState, log: LogEntry[]): void {
  logs.set(state, log);
}

/** The log that led to `state` through act() (empty for a state made by createSession). */
export function logOf(state: SessionState): LogEntry[] {
  return logs.get(state) ?? [];
}

/** Freezes a value deeply so that any mutation by the engine throws (ESM modules run in strict mode). */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** Asserts the command is refused with `code` and that the state is exactly as before. Returns the message. */
export function expectRefused(
  state: SessionState,
  actor: Actor,
  command: unknown,
  code: ErrorCode,
  now = T0,
  options?: ApplyOptions,
): string {
  const before = structuredClone(state);
  const result = apply(deepFreeze(state), command, actor, now, options);
  expect(result.ok ? "applied" : result.error.code, JSON.stringify(command)).toBe(code);
  expect(state).toStrictEqual(before);
  return result.ok ? "" : result.error.message;
}

/** A therapist-mode session with the fixtures uploaded (and on the agenda) and, unless told otherwise, both admitted. */
export function therapistSession(
  channel: SessionInit["channel"] = "typed",
  admit = true,
): {
  init: SessionInit;
  state: SessionState;
} {
  const init = initFor("therapist", channel, ["check-in"]);
  let state = createSession(init);
  for (const definition of FIXTURES) state = act(state, "therapist", { type: "add-exercise", definition });
  if (admit) state = act(state, "therapist", { type: "admit", partners: ["a", "b"] });
  return { init, state };
}

/**
 * A guided session that already holds the fixtures. Guided sessions cannot upload exercises, so the fixtures are
 * placed in `custom` directly; such a state cannot be replayed from its log (use therapistSession for replay).
 */
export function guidedSession(channel: SessionInit["channel"] = "typed", agenda: string[] = []): SessionState {
  const state = createSession(initFor("guided", channel, []));
  return { ...state, custom: structuredClone(FIXTURES), agenda: [...agenda] };
}
