/**
 * State helpers shared by the engine's rules, commands and views: exercise lookup, copy-on-write drafts,
 * the step timer (frozen while paused, on a time-out or while a partner is stepped out) and step transitions.
 */
import { findExercise } from "../catalogue/index.ts";
import type { ExerciseDefinition, StepDefinition, Transition } from "../exercise-format.ts";
import { CYCLE, END } from "../exercise-format.ts";
import type { CommandError, EngineEvent, ErrorCode, Partner, Seat, SessionCore, TurnState } from "../protocol.ts";
import { otherPartner, TURN_HISTORY_MAX } from "../protocol.ts";

/** Builds a refusal. */
export function refuse(code: ErrorCode, message: string): CommandError {
  return { code, message };
}

/** Finds an exercise of this session: the catalogue first, then the session's uploaded ones. */
export function lookupExercise(state: Pick<SessionCore, "custom">, id: string): ExerciseDefinition | undefined {
  return findExercise(id, state.custom);
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
 * the handlers write: they set its fields and its answers, replace (never push to) `said` and `history`, and change
 * only the last history entry in place (handing the floor). The conversation lists are not copied at all: handlers
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

/** Enters step `index` with the given speaker; `from` is the turn being left (its history carries on). */
export function enterStep(
  s: SessionCore,
  def: ExerciseDefinition,
  index: number,
  speaker: Partner,
  cycle: number,
  now: number,
  events: EngineEvent[],
  from: TurnState | null,
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
    history: [...(from?.history ?? []), { stepId: step.id, speaker, cycle }].slice(-TURN_HISTORY_MAX),
  };
  if (step.durationSeconds !== undefined) {
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

/** Closes the running exercise and returns to the lobby. */
export function endExercise(s: SessionCore, now: number, endedEarly: boolean, events: EngineEvent[]): void {
  const turn = s.turn;
  if (!turn) return;
  s.completed.push({ exerciseId: turn.exerciseId, at: now, endedEarly });
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
    endExercise(s, now, false, events);
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
