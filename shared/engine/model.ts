/**
 * State helpers shared by the engine's rules, commands and views: exercise lookup, copy-on-write drafts,
 * the step timer (frozen while paused, on a time-out or while a partner is stepped out) and step transitions.
 */
import { findExercise } from "../catalogue/index.ts";
import type { ExerciseDefinition, StepDefinition, Transition } from "../exercise-format.ts";
import { CYCLE, END, wordsForSession } from "../exercise-format.ts";
import type {
  Actor,
  CommandError,
  DrawnQuestion,
  EngineEvent,
  ErrorCode,
  Partner,
  PickStepView,
  Seat,
  SessionCore,
  TurnState,
} from "../protocol.ts";
import { otherPartner, TURN_HISTORY_MAX } from "../protocol.ts";

/** Builds a refusal. */
export function refuse(code: ErrorCode, message: string): CommandError {
  return { code, message };
}

/** Finds an exercise of this session: the catalogue first, then the session's uploaded ones. */
export function lookupExercise(
  state: Pick<SessionCore, "custom" | "untimed">,
  id: string,
): ExerciseDefinition | undefined {
  const def = findExercise(id, state.custom);
  // A session without timers reads the exercise's untimed words (its steps are the same).
  return def && wordsForSession(def, state);
}

/** The running exercise, its current step and the turn; null in the lobby or after the end. */
export interface Current {
  def: ExerciseDefinition;
  step: StepDefinition;
  turn: TurnState;
}

/** The running exercise and step, or null when none is running. */
export function current(state: SessionCore): Current | null {
  const turn = state.turn;
  if (state.phase !== "exercise" || !turn) return null;
  const def = lookupExercise(state, turn.exerciseId);
  const step = def?.steps.find((s) => s.id === turn.stepId);
  if (!def || !step) return null;
  return { def, step, turn };
}

/** This seat's role in the current turn. */
export function roleOf(turn: TurnState, seat: Seat): "speaker" | "listener" | "therapist" {
  if (seat === "therapist") return "therapist";
  return seat === turn.speaker ? "speaker" : "listener";
}

/**
 * A copy of the core whose containers the command handlers may change in place. Entries already in the arrays are
 * never mutated, so they are shared with the input rather than copied again. The turn is copied just as deep as
 * the handlers write: they set its fields and its answers, replace (never push to or change) `said`, `history`,
 * `guesses`, `picks`, `ideas`, `picked` and `draws`, and change only the last history entry in place (handing the
 * floor). Agreements are only ever appended. The conversation lists are not copied at all: handlers
 * never write them, they report new entries instead (see Appended), so a command costs the same at any length.
 */
export function draft<S extends SessionCore>(s: S): S {
  return {
    ...s,
    names: { ...s.names },
    agenda: [...s.agenda],
    custom: [...s.custom],
    turn: s.turn ? draftTurn(s.turn) : null,
    completed: [...s.completed],
    presence: { ...s.presence },
    admitted: { ...s.admitted },
    safety: { checks: { ...s.safety.checks }, asks: { ...s.safety.asks } },
    reflections: { ...(s.reflections ?? {}) },
    // A core stored before agreements existed has none.
    agreements: [...(s.agreements ?? [])],
  };
}

function draftTurn(turn: TurnState): TurnState {
  const history = turn.history.slice();
  const last = history.length - 1;
  if (last >= 0) history[last] = { ...history[last]! };
  return { ...turn, answers: { ...turn.answers }, history };
}

/** True while the step timer must not run. */
export function isFrozen(s: SessionCore): boolean {
  return s.paused !== null || s.timeOut !== null || s.steppedOut !== null;
}

/** Turns a running deadline into the time that remained (idempotent). */
export function freeze(s: SessionCore, now: number): void {
  const turn = s.turn;
  if (turn && turn.deadline !== undefined) {
    turn.remainingMs = Math.max(0, turn.deadline - now);
    delete turn.deadline;
  }
}

/** Restarts a frozen timer with what remained, once nothing holds it any more. */
export function thaw(s: SessionCore, now: number): void {
  const turn = s.turn;
  if (isFrozen(s) || !turn || turn.remainingMs === undefined) return;
  turn.deadline = now + turn.remainingMs;
  delete turn.remainingMs;
}

/**
 * The `n`-th question (0-based, counting every draw) of a deck of `size` questions: the deck's own order without a
 * seed, else a shuffle of it that the seed fixes, reshuffled each time the deck comes round again. Pure: the same
 * seed always gives the same questions.
 */
export function drawIndex(seed: number | undefined, size: number, n: number): number {
  const round = Math.floor(n / size);
  const at = n % size;
  if (!seed) return at;
  const order = Array.from({ length: size }, (_, i) => i);
  const next = mulberry32((seed + Math.imul(round, 0x9e3779b9)) >>> 0);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order[at]!;
}

/** A small seeded generator of numbers in [0, 1) (mulberry32): enough to shuffle a deck, and the same everywhere. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Enters step `index` with the given speaker; `from` is the turn being left (its history and what the exercise
 * carries between steps go on). `opts.question`, when given, is shown again instead of drawing (going back a
 * step); `opts.seed` starts an exercise's question order.
 */
export function enterStep(
  s: SessionCore,
  def: ExerciseDefinition,
  index: number,
  speaker: Partner,
  cycle: number,
  now: number,
  events: EngineEvent[],
  from: TurnState | null,
  opts: { question?: DrawnQuestion | undefined; seed?: number | undefined } = {},
): void {
  const step = def.steps[index];
  if (!step) throw new Error(`exercise '${def.id}' has no step ${index}`);
  const turn: TurnState = {
    exerciseId: def.id,
    stepId: step.id,
    cycle,
    speaker,
    stepIndex: index,
    stepStartedAt: now,
    answers: {},
    history: [],
  };
  const seed = opts.seed ?? from?.seed;
  if (seed !== undefined) turn.seed = seed;
  // The command entering the step gets version s.version + 1; what it wrote belongs to the round it ended.
  const roundFrom = from && from.cycle === cycle ? from.roundFrom : s.version + 1;
  if (roundFrom !== undefined) turn.roundFrom = roundFrom;
  if (from?.draws) turn.draws = from.draws;
  if (from?.ideas) turn.ideas = from.ideas;
  if (from?.picked) turn.picked = from.picked;
  const shown = step.question ? (opts.question ?? drawQuestion(def, step.question, turn)) : undefined;
  if (shown) turn.question = shown;
  turn.history = [
    ...(from?.history ?? []),
    { stepId: step.id, speaker, cycle, ...(shown ? { question: shown } : {}) },
  ].slice(-TURN_HISTORY_MAX);
  // A session created without timers never arms one: the step waits for the people in it.
  if (step.durationSeconds !== undefined && !s.untimed) {
    const ms = step.durationSeconds * 1000;
    if (isFrozen(s)) turn.remainingMs = ms;
    else turn.deadline = now + ms;
  }
  s.turn = turn;
  events.push({ type: "step-changed", stepId: step.id, exerciseId: def.id });
  if (!from || from.speaker !== speaker) {
    events.push({ type: "turn-changed", speaker, stepId: step.id, exerciseId: def.id });
  }
}

/**
 * The question a step shows: with "same", the one the deck gave last in this exercise (or its first, when it has
 * given none yet); otherwise the deck's next. The count of draws lives in `turn`, so this needs nothing else.
 */
function drawQuestion(
  def: ExerciseDefinition,
  ask: NonNullable<StepDefinition["question"]>,
  turn: TurnState,
): DrawnQuestion | undefined {
  const deck = def.decks?.find((d) => d.id === ask.deck);
  if (!deck) return undefined;
  const drawn = turn.draws?.[deck.id] ?? 0;
  if (ask.draw === "same" && drawn > 0) {
    return { deck: deck.id, index: drawIndex(turn.seed, deck.questions.length, drawn - 1), number: drawn };
  }
  const n = drawn;
  turn.draws = { ...turn.draws, [deck.id]: n + 1 };
  return { deck: deck.id, index: drawIndex(turn.seed, deck.questions.length, n), number: n + 1 };
}

/** The deck, index and words of a drawn question. */
export function questionOf(
  def: ExerciseDefinition,
  drawn: DrawnQuestion | undefined,
): { deck: string; index: number; text: string } | undefined {
  if (!drawn) return undefined;
  const text = def.decks?.find((d) => d.id === drawn.deck)?.questions[drawn.index];
  return text === undefined ? undefined : { deck: drawn.deck, index: drawn.index, text };
}

/** One option of a pick step: an idea, who wrote it and its slot in their list. */
export type PickOption = PickStepView["options"][number];

/** The options of a pick step: both partners' revealed ideas, alternating, with ids like "a-0" and "b-1". */
export function pickOptions(step: StepDefinition, turn: TurnState): PickOption[] {
  const ideas = step.pick ? turn.ideas?.[step.pick.from] : undefined;
  if (!ideas) return [];
  const options: PickOption[] = [];
  for (let index = 0; index < Math.max(ideas.a.length, ideas.b.length); index++) {
    for (const by of ["a", "b"] as const) {
      const label = ideas[by][index];
      if (label !== undefined) options.push({ id: `${by}-${index}`, label, by, index });
    }
  }
  return options;
}

/** Closes the running exercise and returns to the lobby: by its own path (`how.ending`), or early (`how.by`). */
export function endExercise(
  s: SessionCore,
  now: number,
  endedEarly: boolean,
  events: EngineEvent[],
  how: { ending?: string | undefined; by?: Actor | undefined } = {},
): void {
  const turn = s.turn;
  if (!turn) return;
  s.completed.push({
    exerciseId: turn.exerciseId,
    at: now,
    endedEarly,
    ...(how.ending !== undefined ? { ending: how.ending } : {}),
    ...(how.by !== undefined ? { by: how.by } : {}),
  });
  s.phase = "lobby";
  s.turn = null;
  // A pause belongs to the exercise it froze; a time-out or a step-out outlives it.
  s.paused = null;
  events.push({ type: "exercise-ended", exerciseId: turn.exerciseId, endedEarly });
}

/** Follows a transition from the current step: another step, the end of the cycle, or the end of the exercise. */
export function follow(
  s: SessionCore,
  def: ExerciseDefinition,
  transition: Transition,
  now: number,
  events: EngineEvent[],
): void {
  const turn = s.turn;
  if (!turn) return;
  if (transition.to === END) {
    endExercise(s, now, false, events, { ending: transition.ending });
    return;
  }
  if (transition.to === CYCLE) {
    const cycle = turn.cycle + 1;
    if (def.cycles !== undefined && cycle >= def.cycles) {
      endExercise(s, now, false, events);
      return;
    }
    enterStep(s, def, 0, otherPartner(turn.speaker), cycle, now, events, turn);
    return;
  }
  const index = def.steps.findIndex((st) => st.id === transition.to);
  if (index < 0) throw new Error(`exercise '${def.id}' has no step '${transition.to}'`);
  const speaker = transition.swapRoles ? otherPartner(turn.speaker) : turn.speaker;
  enterStep(s, def, index, speaker, turn.cycle, now, events, turn);
}
