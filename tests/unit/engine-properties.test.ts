/**
 * Property tests over random command sequences (random seats, commands, payloads, times and garbage):
 * the engine never throws, a turn always has exactly one speaker, the version grows by one per applied
 * command and never on a refusal, refusals and allowedCommands agree, partners' views never leak what is not
 * theirs to see, every seat that follows the session by updates holds exactly the view a fresh snapshot gives
 * (and no update carries what that seat may not see), and replaying the log rebuilds the state.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyUpdate } from "../../shared/delta.ts";
import {
  type ApplyResult,
  allowedCommands,
  apply,
  coreOf,
  createSession,
  eventsFor,
  nextDeadline,
  replay,
  type SessionInit,
  updateFor,
  viewFor,
} from "../../shared/engine.ts";
import { CATALOGUE } from "../../shared/catalogue/index.ts";
import type {
  Actor,
  Command,
  CommandType,
  IdeaOrigin,
  LogEntry,
  Partner,
  Seat,
  SessionState,
  SessionView,
} from "../../shared/protocol.ts";
import { COMMAND_TYPES, otherPartner } from "../../shared/protocol.ts";
import { act, deepFreeze, FIXTURES, FLOOR, initFor, logOf, SAMPLE, T0 } from "./fixtures.ts";

const ACTORS: Actor[] = ["a", "b", "therapist", "system"];
const RARE = new Map<CommandType, number>([
  ["end-session", 25],
  ["end-exercise", 4],
  // Handing the floor starts the cycle over; as often as any other command, runs would seldom get deep.
  ["hand-floor", 4],
  ["call-time-out", 6],
  ["step-out", 4],
  ["ask-alone", 5],
  ["safety-check", 5],
  ["seen-ask", 5],
  ["reflect", 2],
]);

type Move =
  | { kind: "smart"; actor: number; pick: number; variant: number; dt: number; expected: number | null }
  | { kind: "raw"; actor: Actor; command: Record<string, unknown>; dt: number }
  | { kind: "garbage"; actor: unknown; command: unknown; dt: number };

const dt = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 5_000, max: 130_000 }));

const smart = fc.record({
  kind: fc.constant("smart" as const),
  actor: fc.constantFrom(0, 0, 0, 1, 1, 1, 2, 2, 3),
  pick: fc.nat(),
  variant: fc.nat(),
  dt,
  // Mostly no expected version; sometimes the current one (-1), sometimes a likely stale one.
  expected: fc.oneof(
    { weight: 12, arbitrary: fc.constant(null) },
    { weight: 3, arbitrary: fc.constant(-1) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 80 }) },
  ),
});

const plausible = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -100, max: 5000 }),
  fc.constantFrom("a", "b", "therapist", "got-it", "fx-dialogue", "check-in", ""),
  fc.constant("y".repeat(2001)),
  fc.array(fc.constantFrom("a", "b", "c"), { maxLength: 3 }),
  fc.record({ rating: fc.integer({ min: -2, max: 12 }), feeling: fc.constantFrom("calm", "sad", "x") }),
  fc.anything({ maxDepth: 2 }),
);

const raw = fc.record({
  kind: fc.constant("raw" as const),
  actor: fc.constantFrom(...ACTORS),
  command: fc.record(
    {
      type: fc.constantFrom<string>(...COMMAND_TYPES, "presence", "dance"),
      text: plausible,
      option: plausible,
      answer: plausible,
      minutes: plausible,
      partners: plausible,
      seconds: plausible,
      to: plausible,
      partner: plausible,
      definition: plausible,
      exerciseId: plausible,
      firstSpeaker: plausible,
      seat: plausible,
      online: fc.boolean(),
      choice: plausible,
      mark: fc.oneof(fc.constantFrom("close", "not-quite"), plausible),
      what: plausible,
      when: fc.oneof(
        fc.constantFrom("2023-11-15T00:00:00Z", "2023-11-14T22:13:20+01:00", "2099-01-01T00:00:00Z", "soon"),
        plausible,
      ),
      seed: plausible,
    },
    { requiredKeys: ["type"] },
  ),
  dt,
});

const garbage = fc.record({
  kind: fc.constant("garbage" as const),
  actor: fc.oneof(fc.constantFrom<unknown>(...ACTORS), fc.anything({ maxDepth: 1 })),
  command: fc.anything({ maxDepth: 3 }),
  dt,
});

const moves = fc.array(
  fc.oneof({ weight: 14, arbitrary: smart }, { weight: 3, arbitrary: raw }, { weight: 1, arbitrary: garbage }),
  {
    minLength: 1,
    maxLength: 60,
    size: "max",
  },
);

/** Unique, delimited texts so a leak can be found by a substring search in a view's JSON. */
class Marks {
  private n = 0;
  next(kind: string): string {
    this.n += 1;
    return `#${kind}#${this.n}#`;
  }
}

/** A payload for `type` that fits the current step most of the time and misses it now and then. */
function build(
  state: SessionState,
  actor: Actor,
  type: CommandType,
  variant: number,
  marks: Marks,
  now: number,
): Command {
  const miss = variant % 11 === 0;
  const step = (() => {
    const turn = state.turn;
    const def = turn && [...CATALOGUE, ...state.custom].find((d) => d.id === turn.exerciseId);
    return def?.steps.find((s) => s.id === turn?.stepId);
  })();
  const pick = <T>(items: readonly T[]): T => items[variant % items.length] as T;
  switch (type) {
    case "start-exercise": {
      const ids = [...state.agenda, "no-such", "fx-led"];
      const exerciseId = variant % 3 === 0 ? undefined : pick(ids);
      return {
        type,
        ...(exerciseId ? { exerciseId } : {}),
        ...(variant % 2 ? { firstSpeaker: pick(["a", "b"] as const) } : {}),
        ...(variant % 5 === 1 ? { seed: variant } : {}),
      };
    }
    case "say": {
      const spoken = state.channel === "spoken";
      return spoken !== miss ? { type } : { type, text: marks.next("say") };
    }
    case "choose":
      return { type, option: miss || !step?.options ? "bogus" : pick(step.options).id };
    case "answer": {
      const fields = step?.answer ?? {};
      const answer: Record<string, unknown> = {};
      if (fields.rating) answer.rating = fields.rating.min + (variant % (fields.rating.max - fields.rating.min + 1));
      if (fields.feelings) answer.feeling = pick(fields.feelings);
      // Every answer carries a unique note when the step allows one, so a leak is visible in the JSON.
      if (fields.note) answer.note = marks.next(`answer-${actor}`);
      // Ideas too: each one unique, so an unrevealed idea is found wherever it leaks.
      if (fields.ideas) {
        answer.ideas = Array.from({ length: 1 + (variant % fields.ideas.max) }, () => marks.next(`idea-${actor}`));
      }
      if (miss) answer.rating = 99;
      return { type, answer } as Command;
    }
    case "post":
      return { type, text: marks.next("post") };
    case "guess": {
      const choices = step?.guess?.choices;
      if (choices) return { type, choice: miss ? "bogus" : pick(choices).id };
      const spoken = state.channel === "spoken";
      return spoken !== miss ? { type } : { type, text: marks.next(`guess-${actor}`) };
    }
    case "mark":
      return { type, mark: pick(["close", "not-quite"] as const) };
    case "pick": {
      const seat = actor === "system" ? "a" : actor;
      const options = viewFor(state, seat).exercise?.step.pick?.options ?? [];
      return { type, option: miss || options.length === 0 ? "z-9" : pick(options).id };
    }
    case "agree": {
      const fields = step?.agreement ?? {};
      const command: Record<string, unknown> = { type };
      if (fields.what) {
        if (fields.options && (variant % 3 !== 0 || state.channel === "spoken"))
          command.option = pick(fields.options).id;
        else if (state.channel === "typed") command.what = marks.next("agree");
      }
      if (fields.when && (fields.when === "required" || variant % 2 === 0)) {
        const window = (fields.withinHours ?? 48) * 3_600_000;
        // Now and then a moment in the past, or just past the window.
        const offset = miss ? (variant % 2 ? -60_000 : window + 60_000) : 1 + (variant % window);
        command.when = new Date(now + offset).toISOString();
      }
      return command as Command;
    }
    case "call-time-out":
      return variant % 2 ? { type } : { type, minutes: 20 + (variant % 600) };
    case "admit":
      return { type, partners: pick([["a"], ["b"], ["a", "b"]] as Partner[][]) };
    case "adjust-timer":
      return { type, seconds: (variant % 2 ? 1 : -1) * (1 + (variant % 900)) };
    case "nudge": {
      const to = pick(["a", "b"] as const);
      return { type, to, text: marks.next(`nudge-to-${to}`) };
    }
    case "message-both":
      return { type, text: marks.next("message") };
    case "note":
      return { type, text: marks.next("note") };
    case "step-out":
      return { type, partner: pick(["a", "b"] as const) };
    case "private-message":
      return { type, text: marks.next("private") };
    case "reflect":
      return {
        type,
        heard: 1 + (variant % 10),
        ...(variant % 3 ? { word: marks.next(`word-${actor}`) } : {}),
        keep: variant % 4 !== 0,
        ...(variant % 2 ? { lines: state.transcript.slice(-3).map((t) => t.v) } : {}),
      };
    case "add-exercise":
      return miss
        ? { type, definition: { id: "Broken" } }
        : { type, definition: { ...FLOOR, id: `fx-gen-${variant % 1000}` } };
    default:
      return SAMPLE[type];
  }
}

/**
 * Picks who acts and with which command type: the drawn seat if it has something allowed, else the next seat
 * that has (so runs make progress); now and then any type at all, allowed or not.
 */
function choose(
  state: SessionState,
  move: Extract<Move, { kind: "smart" }>,
  now: number,
): { who: Actor; type: CommandType } {
  const first = ACTORS[move.actor] as Actor;
  if (first === "system") return { who: first, type: "time-up" };
  if (move.variant % 7 === 0) return { who: first, type: COMMAND_TYPES[move.pick % COMMAND_TYPES.length]! };
  const seats = (["a", "b", "therapist"] as const).filter((seat) => seat !== first);
  for (const who of [first, ...seats]) {
    // Ending the session, breaks and step-outs are kept rarer so that most runs get deep into exercises.
    const types = allowedCommands(state, who, now)
      .filter((c) => c.allowed && (!RARE.has(c.type) || move.variant % RARE.get(c.type)! === 0))
      .map((c) => c.type);
    if (types.length > 0) return { who, type: types[move.pick % types.length]! };
  }
  return { who: first, type: COMMAND_TYPES[move.pick % COMMAND_TYPES.length]! };
}

/** Typed words of a partner's part of the current step that nobody else may see yet (answer notes, ideas, guesses). */
function unrevealedWords(state: SessionState, partner: Partner): string[] {
  const words: string[] = [];
  // A closing reflection stays its author's until both partners gave theirs.
  const mine = state.reflections[partner];
  if (mine?.word && !state.reflections[otherPartner(partner)]) words.push(mine.word);
  const turn = state.turn;
  if (!turn) return words;
  const answer = turn.answers[partner];
  if (answer?.note) words.push(answer.note);
  for (const idea of answer?.ideas ?? []) words.push(idea);
  const guess = turn.guesses?.[partner];
  if (!turn.revealed && guess?.text) words.push(guess.text);
  return words;
}

/** Fails when `json` (a view or an update of `seat`) holds anything `seat` may not see in `state`. */
function expectNoLeak(state: SessionState, seat: Seat, json: string): void {
  const notes = state.notes.map((n) => n.text);
  if (seat === "therapist") {
    // The therapist waits for the reveal like the other partner: no note, idea or guess before it.
    for (const partner of ["a", "b"] as const) {
      for (const words of unrevealedWords(state, partner)) expect(json).not.toContain(words);
    }
    // What the couple keeps in their space is theirs: the therapist never learns the decision or the lines.
    expect(json).not.toContain('"keep":');
    expect(json).not.toContain('"lines":');
    return;
  }
  const other = otherPartner(seat);
  // What the other partner said privately about safety reaches the therapist alone: not its answers, nor its events.
  expect(json).not.toContain('"safety":');
  expect(json).not.toContain("alone-asked");
  expect(json).not.toContain("safety-answered");
  const parsed = json.includes('"yourSafety"')
    ? (JSON.parse(json) as { yourSafety?: unknown; set?: { yourSafety?: unknown } })
    : {};
  const own = parsed.yourSafety ?? parsed.set?.yourSafety;
  if (own !== undefined) {
    const check = state.safety.checks[seat];
    const asked = state.safety.asks[seat];
    expect(own).toEqual({ ...(check ? { check: check.answer } : {}), ...(asked ? { asked } : {}) });
  }
  // Notes, ideas and typed guesses carry unique marks; ratings, feelings and choices are too small a domain for a
  // substring search (checkState compares those structurally).
  for (const words of unrevealedWords(state, other)) expect(json).not.toContain(words);
  for (const text of notes) expect(json).not.toContain(text);
  for (const n of state.nudges.filter((x) => x.to === other)) expect(json).not.toContain(n.text);
  if (state.steppedOut === seat) for (const m of state.privateMessages) expect(json).not.toContain(m.text);
  for (const m of state.privateMessages.filter((x) => x.with !== seat)) expect(json).not.toContain(m.text);
  if (!state.admitted[seat]) {
    for (const name of Object.values(state.names)) expect(json).not.toContain(name);
    expect(json).not.toContain('"transcript":[{');
    for (const t of state.transcript) if (t.text) expect(json).not.toContain(t.text);
  }
}

/** Checks every invariant that must hold of one state. */
function checkState(state: SessionState, now: number): void {
  expect(state.phase === "exercise").toBe(state.turn !== null);
  if (state.turn) {
    expect(["a", "b"]).toContain(state.turn.speaker);
    expect(state.turn.deadline === undefined || state.turn.remainingMs === undefined).toBe(true);
  }
  const running = state.turn?.deadline !== undefined && !state.paused && !state.timeOut && !state.steppedOut;
  expect(nextDeadline(state)).toBe(running ? state.turn?.deadline : undefined);
  for (const seat of ["a", "b"] as const) {
    const view = viewFor(state, seat);
    if (view.exercise) {
      // Exactly one speaker: the speaker and the listener are the two partners.
      expect(view.exercise.speaker).toBe(state.turn?.speaker);
      expect(view.exercise.listener).toBe(otherPartner(view.exercise.speaker));
      expect(view.exercise.step.yourAnswer).toEqual(state.turn?.answers[seat]);
      const guess = view.exercise.step.guess;
      if (guess) {
        const turn = state.turn!;
        // Before the reveal a partner sees their own side alone; after it, both sides and no "yours".
        expect(guess.revealed !== undefined).toBe(turn.revealed === true);
        expect(guess.yours).toEqual(turn.revealed ? undefined : turn.guesses?.[seat]);
      }
    }
    if (!state.admitted[seat]) expect(view.waiting).toBe(true);
    expectNoLeak(state, seat, JSON.stringify(view));
  }
  const therapistView = viewFor(state, "therapist");
  expectNoLeak(state, "therapist", JSON.stringify(therapistView));
  const guess = therapistView.exercise?.step.guess;
  if (guess) {
    expect(guess.yours).toBeUndefined();
    expect(guess.revealed !== undefined).toBe(state.turn?.revealed === true);
  }
  expectIdeasKeepTheirOrigin(state);
  void now;
}

/**
 * Wherever the engine copies a pick-list idea (a pick step's options, the pick, an agreement about it), it names the
 * slot it was written in, and that slot holds those very words: a reader of an encrypted session opens it from there.
 */
function expectIdeasKeepTheirOrigin(state: SessionState): void {
  const writtenAt = (exerciseId: string, origin: IdeaOrigin, before: number) =>
    state.checkIns
      .filter((c) => c.exerciseId === exerciseId && c.stepId === origin.stepId && c.v <= before)
      .map((c) => c.answers[origin.by].ideas?.[origin.index]);
  for (const seat of ["a", "b", "therapist"] as const) {
    const exercise = viewFor(state, seat).exercise;
    const pick = exercise?.step.pick;
    for (const o of pick?.options ?? []) {
      expect(o.id).toBe(`${o.by}-${o.index}`);
      expect(state.turn?.ideas?.[pick?.from ?? ""]?.[o.by][o.index]).toBe(o.label);
    }
    const agreement = exercise?.step.agreement;
    if (agreement?.picked !== undefined) {
      expect(writtenAt(exercise!.id, agreement.pickedFrom!, state.version)).toContain(agreement.picked);
    }
  }
  for (const a of state.agreements) {
    if (a.picked !== undefined) expect(writtenAt(a.exerciseId, a.pickedFrom!, a.v)).toContain(a.picked);
  }
  for (const e of state.transcript) {
    if (e.idea) expect(writtenAt(e.exerciseId!, e.idea, e.v)).toContain(e.label);
  }
}

/**
 * Every seat follows the session as a client does: it holds a view, applies each update to it, and takes a fresh
 * snapshot only when the update says it must. At every version its view must be exactly a fresh snapshot's, and no
 * update may carry what the seat may not see.
 */
function followUpdates(
  followed: Map<Seat, SessionView>,
  before: SessionState,
  result: Extract<ApplyResult<SessionState>, { ok: true }>,
): void {
  const next = result.state;
  const fromCore = apply(coreOf(before), result.entry.command, result.entry.actor, result.entry.at);
  if (!fromCore.ok) throw new Error(`the core alone refused what the whole state took: ${fromCore.error.code}`);
  expect(fromCore.state).toEqual(coreOf(next));
  for (const [seat, view] of followed) {
    const update = updateFor(coreOf(before), fromCore.state, fromCore.appended, seat, result.events);
    const fresh = viewFor(next, seat);
    if (update === null) {
      // Only a change of what older entries the seat may see calls for a snapshot.
      const moved =
        isPartnerSeat(seat) &&
        (before.admitted[seat] !== next.admitted[seat] || (before.steppedOut === seat) !== (next.steppedOut === seat));
      expect(moved, `${seat} was sent to a snapshot at v${next.version} without cause`).toBe(true);
      followed.set(seat, fresh);
      continue;
    }
    expect(update.from).toBe(view.version);
    expect(update.version).toBe(next.version);
    expectNoLeak(next, seat, JSON.stringify(update));
    const applied = applyUpdate(view, update);
    expect(applied, `${seat} at v${next.version}`).toEqual(fresh);
    followed.set(seat, applied);
  }
}

function isPartnerSeat(seat: Seat): seat is Partner {
  return seat === "a" || seat === "b";
}

/** Runs one random sequence from `start`, checking the per-command invariants; returns the final state and log. */
function run(start: SessionState, list: Move[], startLog: LogEntry[] = []): { state: SessionState; log: LogEntry[] } {
  let state = deepFreeze(start);
  let now = T0;
  const marks = new Marks();
  const log = [...startLog];
  const seats: Seat[] = state.mode === "therapist" ? ["a", "b", "therapist"] : ["a", "b"];
  const followed = new Map<Seat, SessionView>(seats.map((seat) => [seat, viewFor(state, seat)]));
  for (const move of list) {
    now += move.dt;
    let actor: unknown;
    let command: unknown;
    let options: { expectedVersion: number } | undefined;
    if (move.kind === "smart") {
      const { who, type } = choose(state, move, now);
      actor = who;
      command =
        who === "system" && move.pick % 4 === 0
          ? { type: "presence", seat: ["a", "b", "therapist"][move.variant % 3], online: move.variant % 2 === 0 }
          : build(state, who, type, move.variant, marks, now);
      if (move.expected !== null) options = { expectedVersion: move.expected === -1 ? state.version : move.expected };
    } else {
      actor = move.actor;
      command = move.command;
    }
    let result: ApplyResult<SessionState> | undefined;
    expect(() => {
      result = apply<SessionState>(state, command, actor as Actor, now, options);
    }).not.toThrow();
    if (!result) throw new Error("no result");
    if (!result.ok) {
      expect(result.error.code).not.toBe("INTERNAL");
      expect(typeof result.error.message).toBe("string");
      if (typeof actor === "string" && actor !== "system" && ACTORS.includes(actor as Actor)) {
        // The control's disabled reason is the refusal apply gives for any command of that type.
        const entry = allowedCommands(state, actor as "a" | "b" | "therapist", now).find(
          (c) => c.type === (command as { type?: unknown } | null)?.type,
        );
        const parseError = result.error.code === "INVALID_COMMAND" || result.error.code === "TEXT_TOO_LONG";
        if (entry && !entry.allowed && options === undefined && !parseError) expect(result.error.code).toBe(entry.code);
      }
      continue;
    }
    const next = result.state;
    expect(next.version).toBe(state.version + 1);
    expect(result.entry).toMatchObject({ v: next.version, at: now, actor });
    log.push(result.entry);
    // Append-only: every earlier entry is still there, untouched (the engine shares unchanged entries).
    for (const key of ["transcript", "checkIns", "nudges", "notes", "privateMessages"] as const) {
      const added = result.appended[key] ?? [];
      expect(next[key]).toHaveLength(state[key].length + added.length);
      expect(next[key].slice(0, state[key].length).every((entry, i) => entry === state[key][i])).toBe(true);
    }
    followUpdates(followed, state, result);
    for (const seat of ["a", "b"] as const) {
      const events = eventsFor(next, seat, result.events);
      if (!next.admitted[seat]) expect(events).toEqual([]);
      expect(events.some((e) => e.type === "nudged" && e.to !== seat)).toBe(false);
    }
    checkState(next, now);
    state = deepFreeze(next);
  }
  return { state, log };
}

function therapistStart(init: SessionInit): SessionState {
  let state = createSession(init);
  for (const definition of FIXTURES) state = act(state, "therapist", { type: "add-exercise", definition });
  return state;
}

/** A therapist session with the fixtures, both partners in, and `exerciseId` already running (seeded). */
function startedIn(exerciseId: string): (init: SessionInit) => SessionState {
  return (init) => {
    let state = therapistStart(init);
    state = act(state, "therapist", { type: "admit", partners: ["a", "b"] });
    return act(state, "therapist", { type: "start-exercise", exerciseId, seed: 7 });
  };
}

const SETUPS: { name: string; init: SessionInit; start: (init: SessionInit) => SessionState }[] = [
  { name: "therapist, typed", init: initFor("therapist", "typed", ["check-in"]), start: therapistStart },
  { name: "therapist, spoken", init: initFor("therapist", "spoken", []), start: therapistStart },
  // Straight into the guess, pick and agreement kinds, where privacy before a reveal matters most.
  { name: "therapist, typed, in fx-guess", init: initFor("therapist", "typed", []), start: startedIn("fx-guess") },
  { name: "therapist, spoken, in fx-guess", init: initFor("therapist", "spoken", []), start: startedIn("fx-guess") },
  { name: "therapist, typed, in fx-plan", init: initFor("therapist", "typed", []), start: startedIn("fx-plan") },
  { name: "therapist, spoken, in fx-plan", init: initFor("therapist", "spoken", []), start: startedIn("fx-plan") },
  {
    name: "guided, typed",
    init: initFor(
      "guided",
      "typed",
      CATALOGUE.map((d) => d.id),
    ),
    start: createSession,
  },
  {
    name: "guided, spoken",
    init: initFor(
      "guided",
      "spoken",
      CATALOGUE.map((d) => d.id),
    ),
    start: createSession,
  },
];

describe.each(SETUPS)("random command sequences ($name)", ({ init, start }) => {
  it("keep every invariant, and the log replays to the same state", () => {
    fc.assert(
      fc.property(moves, (list) => {
        const first = start(init);
        const end = run(first, list, logOf(first));
        expect(replay(init, end.log)).toStrictEqual(end.state);
      }),
      { numRuns: 75 },
    );
    // Hundreds of views and updates per run, each searched for leaks: allow a loaded machine its time.
  }, 120_000);
});

describe("the sequences reach the interesting places", () => {
  it("random runs in the new kinds guess, reveal, mark, pick, offer, acknowledge and agree", () => {
    const seen = new Set<string>();
    for (const exerciseId of ["fx-guess", "fx-plan"]) {
      fc.assert(
        fc.property(moves, (list) => {
          const start = startedIn(exerciseId)(initFor("therapist", "typed", []));
          const { state: end, log } = run(start, list);
          for (const entry of log) seen.add(entry.command.type);
          if (end.guesses.length > 0) seen.add("guessed");
          for (const a of end.agreements) seen.add(a.acknowledgedBy ? "agreed-acknowledged" : "agreed-alone");
        }),
        { numRuns: 60, seed: 20261201 },
      );
    }
    for (const what of [
      "guess",
      "mark",
      "pick",
      "agree",
      "acknowledge",
      "guessed",
      "agreed-acknowledged",
      "agreed-alone",
    ]) {
      expect(seen, `${what} in ${[...seen].join(",")}`).toContain(what);
    }
  }, 120_000);

  it("random runs start, finish, reveal, pause, break and step out", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(moves, (list) => {
        const { state: end, log } = run(therapistStart(SETUPS[0]!.init), list);
        for (const entry of log) seen.add(entry.command.type);
        for (const entry of log)
          if (entry.command.type === "start-exercise") seen.add(`start:${entry.command.exerciseId}`);
        for (const t of end.transcript) seen.add(`${t.kind}:${t.stepId}`);
        if (end.completed.length > 0) seen.add("completed");
        if (end.checkIns.length > 0) seen.add("revealed");
        if (end.guesses.length > 0) seen.add("guessed");
      }),
      { numRuns: 100, seed: 20261125 },
    );
    for (const what of [
      "start-exercise",
      "say",
      "choose",
      "answer",
      "pause",
      "call-time-out",
      "step-out",
      "completed",
      "revealed",
      "guess",
      "guessed",
    ]) {
      expect(seen, `${what} in ${[...seen].join(",")}`).toContain(what);
    }
  }, 120_000);
});
