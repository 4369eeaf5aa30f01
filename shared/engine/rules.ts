/**
 * The seat and step rules: one guard answers "may this actor send this command type now?" for both apply()
 * and allowedCommands(), so a disabled control always shows the very refusal apply() would give.
 * Payload checks (which option, what text, which answer) come after it, in the command handlers.
 */
import type { StepDefinition } from "../exercise-format.ts";
import type { Actor, AllowedCommand, CommandError, CommandType, Seat, SessionCore, TurnState } from "../protocol.ts";
import { COMMAND_TYPES, ErrorCode, isPartner, LIMITS, otherPartner } from "../protocol.ts";
import { current, refuse } from "./model.ts";

/** Every type the guard knows: the seat commands plus the server's presence. */
export type GuardedType = CommandType | "presence";

const THERAPIST_ONLY: ReadonlySet<GuardedType> = new Set<GuardedType>([
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
  "seen-ask",
]);
/** What a partner tells the therapist alone about safety: possible from the waiting room and the waiting space. */
const SAFETY: ReadonlySet<GuardedType> = new Set<GuardedType>(["safety-check", "ask-alone"]);
const PACING: ReadonlySet<GuardedType> = new Set<GuardedType>([
  "start-exercise",
  "set-first-speaker",
  "pause",
  "resume",
  "end-exercise",
  "end-session",
]);
/** What a partner says or does in their own voice; the therapist may not stand in for them. */
const PARTNER_VOICE: ReadonlySet<GuardedType> = new Set<GuardedType>([
  "say",
  "choose",
  "answer",
  "post",
  "end-turn",
  "call-time-out",
  "guess",
  "mark",
  "pick",
  "agree",
  "acknowledge",
]);
/** Commands that move the exercise itself: held while paused, on a time-out or with a partner stepped out. */
const EXERCISE_COMMANDS: ReadonlySet<GuardedType> = new Set<GuardedType>([
  "say",
  "choose",
  "answer",
  "post",
  "end-turn",
  "guess",
  "mark",
  "pick",
  "agree",
  "acknowledge",
  "time-up",
  "skip-step",
  "back-step",
  "hand-floor",
]);

/** True for the commands that pause, a time-out and a step-out put on hold. */
export function isExerciseCommand(type: GuardedType): boolean {
  return EXERCISE_COMMANDS.has(type);
}

const KIND_NAMES: Record<StepDefinition["kind"], string> = {
  say: "say your part",
  choose: "pick an option",
  "private-answer": "answer privately",
  talk: "talk",
  guess: "answer or guess privately",
  pick: "pick one of your ideas",
  agreement: "agree on a plan",
};

/** Why it is not this seat's move in a say/choose step, in the seat's own terms. */
function notYourTurn(step: StepDefinition, turn: TurnState, actor: Actor): CommandError {
  if (step.actor === "therapist") return refuse(ErrorCode.NOT_YOUR_TURN, "The therapist leads this step.");
  if (step.actor === "both") {
    return refuse(ErrorCode.NOT_YOUR_TURN, "You have said your part — waiting for your partner.");
  }
  if (actor === "therapist") {
    return refuse(
      ErrorCode.NOT_YOUR_TURN,
      `This step is for the ${step.actor}, partner ${step.actor === "speaker" ? turn.speaker : otherPartner(turn.speaker)}.`,
    );
  }
  if (step.actor === "listener") {
    return refuse(ErrorCode.NOT_YOUR_TURN, "This part is your partner's: listen for now.");
  }
  return refuse(ErrorCode.NOT_YOUR_TURN, "This part is your partner's: your turn comes next.");
}

/** True when `actor` is the one the step expects (for "both": a partner who has not said their part yet). */
function actsInStep(step: StepDefinition, turn: TurnState, actor: Actor): boolean {
  switch (step.actor) {
    case "speaker":
      return actor === turn.speaker;
    case "listener":
      return actor === otherPartner(turn.speaker);
    case "both":
      return isPartner(actor) && !(turn.said ?? []).includes(actor);
    case "therapist":
      return actor === "therapist";
  }
}

function wrongStep(step: StepDefinition, wanted: StepDefinition["kind"]): CommandError {
  return refuse(ErrorCode.WRONG_STEP, `This step asks you to ${KIND_NAMES[step.kind]}, not to ${KIND_NAMES[wanted]}.`);
}

/** Why a partner may not pick or agree in a step acted by one role, in their own terms. */
function notYourPart(step: StepDefinition, turn: TurnState, actor: Actor, doing: string): CommandError {
  if (step.actor === "therapist") return refuse(ErrorCode.NOT_YOUR_TURN, "The therapist leads this step.");
  if (actor === "therapist") {
    const partner = step.actor === "speaker" ? turn.speaker : otherPartner(turn.speaker);
    return refuse(ErrorCode.NOT_YOUR_TURN, `This step is for partner ${partner} to ${doing}.`);
  }
  return refuse(ErrorCode.NOT_YOUR_TURN, `Your partner is the one to ${doing} here.`);
}

/** Step rules of the guess, pick and agreement kinds. */
function newKindRule(state: SessionCore, step: StepDefinition, turn: TurnState, actor: Actor, type: GuardedType) {
  switch (type) {
    case "guess":
      if (step.kind !== "guess") return wrongStep(step, "guess");
      if (turn.revealed) return refuse(ErrorCode.ALREADY_ANSWERED, "Both are out — say how close the guess was.");
      if (isPartner(actor) && turn.guesses?.[actor] !== undefined) {
        return refuse(ErrorCode.ALREADY_ANSWERED, "Yours is in — waiting for your partner.");
      }
      return null;
    case "mark":
      if (step.kind !== "guess") return wrongStep(step, "guess");
      if (!turn.revealed) {
        return refuse(ErrorCode.NOT_REVEALED, "The answer and the guess come out together, once both are in.");
      }
      return null;
    case "pick": {
      if (step.kind !== "pick") return wrongStep(step, "pick");
      const from = step.pick?.from;
      if (!from || !turn.ideas?.[from]) {
        return refuse(ErrorCode.NOTHING_TO_PICK, "There are no ideas to pick from: that step was not answered.");
      }
      if (step.actor === "both") return isPartner(actor) ? null : notYourPart(step, turn, actor, "pick");
      return actsInStep(step, turn, actor) ? null : notYourPart(step, turn, actor, "pick");
    }
    case "agree":
    case "acknowledge": {
      if (step.kind !== "agreement") return wrongStep(step, "agreement");
      if ((state.agreements?.length ?? 0) >= LIMITS.agreementsMax) {
        return refuse(
          ErrorCode.TOO_MANY_AGREEMENTS,
          `This session already keeps ${LIMITS.agreementsMax} agreements; no more can be added.`,
        );
      }
      const offer = turn.offer;
      if (type === "acknowledge") {
        if (!offer) return refuse(ErrorCode.NO_OFFER, "Nothing has been offered yet.");
        if (actor === offer.by) return refuse(ErrorCode.NOT_YOUR_TURN, "Your partner answers your offer.");
        return null;
      }
      if (step.actor === "both") return isPartner(actor) ? null : notYourPart(step, turn, actor, "agree");
      return actsInStep(step, turn, actor) ? null : notYourPart(step, turn, actor, "offer this");
    }
    default:
      return null;
  }
}

/** Seat rules: who may send this type at all, whatever the step. */
function seatRule(state: SessionCore, actor: Actor, type: GuardedType): CommandError | null {
  if (actor === "system") {
    if (type === "presence" || type === "time-up") return null;
    return refuse(ErrorCode.INVALID_COMMAND, "type: the server may only send presence and time-up");
  }
  if (type === "presence") return refuse(ErrorCode.INVALID_COMMAND, "type: presence is sent by the server only");
  if (actor === "therapist" && state.mode === "guided") {
    return refuse(ErrorCode.NOT_IN_MODE, "A guided session has no therapist seat.");
  }
  if (SAFETY.has(type)) return safetyRule(state, actor, type);
  if (isPartner(actor)) {
    if (!state.admitted[actor]) return refuse(ErrorCode.NOT_ADMITTED, "The therapist will let you in shortly.");
    if (state.steppedOut === actor) {
      return refuse(ErrorCode.STEPPED_OUT, "You are in the waiting space until the therapist brings you back.");
    }
  }
  if (type === "adjust-timer" && isPartner(actor) && state.mode === "guided") {
    // WCAG 2.2.1: in a guided session the partner a step times may extend it (the therapist does it otherwise).
    const cur = current(state);
    if (!cur || !actsInStep(cur.step, cur.turn, actor)) {
      return refuse(ErrorCode.NOT_YOUR_TURN, "Only the partner this step is timing can give it more time.");
    }
    return null;
  }
  if (THERAPIST_ONLY.has(type) && actor !== "therapist") {
    return refuse(ErrorCode.THERAPIST_ONLY, "Only the therapist can do this.");
  }
  if (PACING.has(type) && state.mode === "therapist" && actor !== "therapist") {
    return refuse(ErrorCode.THERAPIST_ONLY, "The therapist sets the pace in this session.");
  }
  if (PARTNER_VOICE.has(type) && actor === "therapist") {
    // A step acted by the therapist is the one place the therapist speaks or chooses in the exercise.
    const therapistStep = type !== "call-time-out" && current(state)?.step.actor === "therapist";
    if (!therapistStep) return refuse(ErrorCode.PARTNER_ONLY, "Only a partner can do this, in their own voice.");
  }
  return null;
}

/** The closing reflection: each admitted partner, once, after the session ended. */
function reflectRule(state: SessionCore, actor: Actor): CommandError | null {
  if (!isPartner(actor)) return refuse(ErrorCode.PARTNER_ONLY, "Only a partner can answer this, for themself.");
  if (!state.admitted[actor]) return refuse(ErrorCode.NOT_ADMITTED, "The therapist will let you in shortly.");
  if (state.phase !== "ended") {
    return refuse(ErrorCode.SESSION_NOT_ENDED, "This comes at the end of the session.");
  }
  if (state.reflections?.[actor])
    return refuse(ErrorCode.ALREADY_ANSWERED, "You have answered — waiting for your partner.");
  return null;
}

/** Who may answer the safety question or ask to talk alone, and when. */
function safetyRule(state: SessionCore, actor: Actor, type: GuardedType): CommandError | null {
  if (!isPartner(actor)) return refuse(ErrorCode.PARTNER_ONLY, "Only a partner can do this, for themself.");
  if (state.mode !== "therapist") return refuse(ErrorCode.NOT_IN_MODE, "This is for sessions with a therapist.");
  if (type === "safety-check" && state.admitted[actor]) {
    return refuse(ErrorCode.ALREADY_ADMITTED, "You are in the room now; the therapist asked this before.");
  }
  return null;
}

/** Step rules for the commands that move the exercise. */
function exerciseRule(
  state: SessionCore,
  actor: Actor,
  type: GuardedType,
  now: number | undefined,
): CommandError | null {
  const cur = current(state);
  if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
  if (state.steppedOut !== null) {
    return refuse(ErrorCode.STEPPED_OUT, "The exercise waits until both partners are back in the room.");
  }
  if (state.timeOut !== null) return refuse(ErrorCode.ON_TIME_OUT, "You are on a break; the exercise waits for you.");
  if (state.paused !== null) return refuse(ErrorCode.PAUSED, "The exercise is paused.");
  const { step, turn } = cur;
  switch (type) {
    case "say":
    case "choose": {
      const kind = type === "say" ? "say" : "choose";
      if (step.kind !== kind) return wrongStep(step, kind);
      return actsInStep(step, turn, actor) ? null : notYourTurn(step, turn, actor);
    }
    case "answer":
      if (step.kind !== "private-answer") return wrongStep(step, "private-answer");
      if (isPartner(actor) && turn.answers[actor] !== undefined) {
        return refuse(ErrorCode.ALREADY_ANSWERED, "You have answered — waiting for your partner.");
      }
      return null;
    case "guess":
    case "mark":
    case "pick":
    case "agree":
    case "acknowledge":
      return newKindRule(state, step, turn, actor, type);
    case "post":
      if (step.kind !== "talk") return wrongStep(step, "talk");
      if (state.channel === "spoken") {
        return refuse(ErrorCode.TEXT_NOT_ALLOWED, "This session is spoken: talk aloud rather than typing.");
      }
      return null;
    case "end-turn":
      if (step.kind !== "talk") return wrongStep(step, "talk");
      if (actor !== turn.speaker) {
        return refuse(ErrorCode.NOT_YOUR_TURN, "Only the partner holding the floor can end this turn.");
      }
      return null;
    case "time-up":
      if (turn.deadline === undefined) return refuse(ErrorCode.NO_TIMER, "This step has no running timer.");
      // Without a moment (a view describes a version, not a time) the step is taken to end at its deadline.
      if (now === undefined || now < turn.deadline) {
        return refuse(ErrorCode.DEADLINE_NOT_REACHED, "There is still time left on this step.");
      }
      return null;
    case "back-step":
      if (turn.history.length < 2) return refuse(ErrorCode.NO_PREVIOUS_STEP, "This is the first step of the exercise.");
      return null;
    default:
      return null;
  }
}

/** Step rules for everything else (pacing, safety, coaching). */
function sessionRule(state: SessionCore, type: GuardedType): CommandError | null {
  switch (type) {
    case "start-exercise":
      if (state.phase !== "lobby") {
        return refuse(ErrorCode.EXERCISE_IN_PROGRESS, "An exercise is running; end it before starting another.");
      }
      if (state.timeOut !== null) return refuse(ErrorCode.ON_TIME_OUT, "You are on a break; start after it.");
      if (state.steppedOut !== null) {
        return refuse(ErrorCode.STEPPED_OUT, "Bring both partners back before starting an exercise.");
      }
      return null;
    case "set-first-speaker":
      if (state.phase !== "lobby") {
        return refuse(ErrorCode.EXERCISE_IN_PROGRESS, "Who speaks first is agreed before an exercise starts.");
      }
      return null;
    case "pause":
      if (!state.turn) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      if (state.paused !== null) return refuse(ErrorCode.PAUSED, "The exercise is already paused.");
      return null;
    case "resume":
      if (state.paused === null) return refuse(ErrorCode.NOT_PAUSED, "The exercise is not paused.");
      return null;
    case "end-exercise":
      if (!state.turn) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      return null;
    case "call-time-out":
      if (state.timeOut !== null) return refuse(ErrorCode.ON_TIME_OUT, "A break is already under way.");
      return null;
    case "end-time-out":
      if (state.timeOut === null) return refuse(ErrorCode.NOT_ON_TIME_OUT, "There is no break to end.");
      return null;
    case "admit":
      if (state.admitted.a && state.admitted.b) {
        return refuse(ErrorCode.ALREADY_ADMITTED, "Both partners are already in the room.");
      }
      return null;
    case "adjust-timer": {
      const turn = state.turn;
      if (!turn) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      if (turn.deadline === undefined && turn.remainingMs === undefined) {
        return refuse(ErrorCode.NO_TIMER, "This step has no timer to adjust.");
      }
      return null;
    }
    case "step-out":
      if (state.steppedOut !== null) {
        return refuse(ErrorCode.ALREADY_STEPPED_OUT, "A partner is already in the waiting space.");
      }
      return null;
    case "bring-back":
      if (state.steppedOut === null) return refuse(ErrorCode.NOT_STEPPED_OUT, "Nobody is stepped out.");
      return null;
    case "seen-ask":
      if (Object.keys(state.safety.asks).length === 0) {
        return refuse(ErrorCode.NOT_IN_MODE, "No partner has asked to talk alone.");
      }
      return null;
    case "private-message":
      if (state.steppedOut === null) {
        return refuse(ErrorCode.NOT_STEPPED_OUT, "Private messages are for while one partner is stepped out.");
      }
      return null;
    case "add-exercise":
      if (state.custom.length >= LIMITS.customExercisesMax) {
        return refuse(
          ErrorCode.TOO_MANY_EXERCISES,
          `A session holds at most ${LIMITS.customExercisesMax} uploaded exercises.`,
        );
      }
      return null;
    default:
      return null;
  }
}

/**
 * The one guard: could `actor` send a command of this type now? Checks, in order, the end of the session, the
 * seat rules, then the step rules. Null means yes; the payload is checked afterwards by the handler. `now` matters
 * only to time-up; without it (as in a view, which describes a version rather than a moment) time-up waits for
 * its deadline.
 */
export function guard(state: SessionCore, actor: Actor, type: GuardedType, now?: number): CommandError | null {
  if (type === "reflect") {
    if (actor === "therapist" && state.mode === "guided") {
      return refuse(ErrorCode.NOT_IN_MODE, "A guided session has no therapist seat.");
    }
    return reflectRule(state, actor);
  }
  if (state.phase === "ended") return refuse(ErrorCode.SESSION_ENDED, "The session has ended.");
  const seat = seatRule(state, actor, type);
  if (seat) return seat;
  if (isExerciseCommand(type)) return exerciseRule(state, actor, type, now);
  return sessionRule(state, type);
}

/**
 * Every update carries one entry per command type for each seat, and the same few answers recur, so the entries
 * are interned: equal answers share one frozen object. That keeps views (which the socket layer may hold on to
 * for connection recovery) small and spares the allocations. Bounded: a full table is simply started afresh.
 */
const ALLOWED_ENTRIES_MAX = 256;
const allowedEntries = new Map<CommandType, Map<string, AllowedCommand>>();
const ALLOWED_YES = new Map<CommandType, AllowedCommand>(
  COMMAND_TYPES.map((type) => [type, Object.freeze({ type, allowed: true })]),
);

function refusedEntry(type: CommandType, error: CommandError): AllowedCommand {
  let byReason = allowedEntries.get(type);
  if (!byReason) {
    byReason = new Map();
    allowedEntries.set(type, byReason);
  }
  // A command of another kind of step has no control on this one, so its entry needs no sentence: the code says
  // it all, and the entry then stays the same from step to step (an update carries only what changed).
  const reason = error.code === ErrorCode.WRONG_STEP ? undefined : error.message;
  const key = reason ?? `#${error.code}`;
  const known = byReason.get(key);
  if (known && known.code === error.code) return known;
  if (byReason.size >= ALLOWED_ENTRIES_MAX) byReason.clear();
  const entry = Object.freeze(
    reason === undefined
      ? { type, allowed: false, code: error.code }
      : { type, allowed: false, code: error.code, reason },
  );
  byReason.set(key, entry);
  return entry;
}

/**
 * For each command type, whether `seat` could send it (at `now`, when given) and, if not, the code and the reason.
 * Read-only entries, always in COMMAND_TYPES order.
 */
export function allowedFor(state: SessionCore, seat: Seat, now?: number): AllowedCommand[] {
  return COMMAND_TYPES.map((type) => {
    const error = guard(state, seat, type, now);
    return error ? refusedEntry(type, error) : (ALLOWED_YES.get(type) as AllowedCommand);
  });
}
