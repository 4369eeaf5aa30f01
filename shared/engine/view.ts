/**
 * Per-seat views and event filtering: the only form in which session state leaves the server.
 * Privacy boundaries live here: unrevealed answers, therapist notes, nudges to the other partner and the
 * private channel of a step-out never reach a partner who may not see them.
 *
 * A view shares data with the state and the catalogue instead of copying it: committed states are never
 * mutated (the engine drafts fresh containers and never changes an entry it already holds), and a view is
 * serialized when it is emitted. Deep-copying every view (the whole transcript, twice per update) was the
 * largest JS cost of an update in the 2,000-room profile. Callers must treat a view as read-only.
 */
import type { EngineEvent, Seat, SessionState, SessionView, StepView } from "../protocol.ts";
import { isPartner, otherPartner } from "../protocol.ts";
import { type Current, current, lookupExercise, roleOf } from "./model.ts";
import { allowedFor, type GuardedType, guard } from "./rules.ts";

const PRIMARY_COMMAND: Record<StepView["kind"], GuardedType> = {
  say: "say",
  choose: "choose",
  "private-answer": "answer",
  talk: "end-turn",
};

function stepView(state: SessionState, seat: Seat, cur: Current, now: number): StepView {
  const { step, turn } = cur;
  const role = roleOf(turn, seat);
  const stems = role === "therapist" ? step.stems?.all : (step.stems?.[role] ?? step.stems?.all);
  const view: StepView = {
    id: step.id,
    title: step.title,
    kind: step.kind,
    actor: step.actor,
    role,
    yourMove: guard(state, seat, PRIMARY_COMMAND[step.kind], now) === null,
    prompt: step.prompt[role] ?? step.prompt.all ?? "",
    stems: [...(stems ?? [])],
  };
  if (step.options) view.options = step.options.map((o) => ({ id: o.id, label: o.label }));
  if (step.answer) view.answerFields = step.answer;
  if (turn.deadline !== undefined) view.deadline = turn.deadline;
  if (turn.remainingMs !== undefined) view.remainingMs = turn.remainingMs;
  if (step.durationSeconds !== undefined) view.durationSeconds = step.durationSeconds;
  if (step.kind === "private-answer") {
    view.answered = { a: turn.answers.a !== undefined, b: turn.answers.b !== undefined };
    // Only the answer's author sees it before the reveal; the therapist waits for the reveal like the other partner.
    const own = isPartner(seat) ? turn.answers[seat] : undefined;
    if (own) view.yourAnswer = own;
  }
  return view;
}

function waitingView(state: SessionState, seat: Seat, now: number): SessionView {
  return {
    id: state.id,
    version: state.version,
    you: { seat },
    mode: state.mode,
    channel: state.channel,
    names: {},
    // Whether the session is over is all a waiting partner learns of its progress.
    phase: state.phase === "ended" ? "ended" : "lobby",
    presence: { a: false, b: false, therapist: false },
    admitted: { a: false, b: false },
    waiting: true,
    agenda: [],
    agendaNext: 0,
    completed: [],
    exercise: null,
    paused: null,
    timeOut: null,
    steppedOut: null,
    transcript: [],
    checkIns: [],
    nudges: [],
    notes: [],
    privateMessages: [],
    allowed: allowedFor(state, seat, now),
  };
}

/** The part of the state `seat` may see at time `now`. */
export function buildView(state: SessionState, seat: Seat, now: number): SessionView {
  if (isPartner(seat) && !state.admitted[seat]) return waitingView(state, seat, now);
  const cur = current(state);
  const agenda = state.agenda.flatMap((id) => {
    const def = lookupExercise(state, id);
    return def ? [{ id: def.id, title: def.title, summary: def.summary }] : [];
  });
  const exercise: SessionView["exercise"] = cur
    ? {
        id: cur.def.id,
        title: cur.def.title,
        ...(cur.def.intro !== undefined ? { intro: cur.def.intro } : {}),
        stepIndex: cur.turn.stepIndex,
        stepCount: cur.def.steps.length,
        cycle: cur.turn.cycle,
        ...(cur.def.cycles !== undefined ? { cycles: cur.def.cycles } : {}),
        speaker: cur.turn.speaker,
        listener: otherPartner(cur.turn.speaker),
        step: stepView(state, seat, cur, now),
      }
    : null;
  const therapist = seat === "therapist";
  return {
    id: state.id,
    version: state.version,
    you: { seat },
    mode: state.mode,
    channel: state.channel,
    names: state.names,
    phase: state.phase,
    presence: state.presence,
    admitted: state.admitted,
    waiting: false,
    agenda,
    agendaNext: state.agendaNext,
    completed: state.completed,
    exercise,
    paused: state.paused,
    timeOut: state.timeOut,
    // The partner who stayed may know the other is out; the one out knows it of themselves.
    steppedOut: state.steppedOut,
    transcript: state.transcript,
    checkIns: state.checkIns,
    nudges: therapist ? state.nudges : state.nudges.filter((n) => n.to === seat),
    notes: therapist ? state.notes : [],
    privateMessages: therapist
      ? state.privateMessages
      : state.steppedOut === seat
        ? []
        : state.privateMessages.filter((m) => m.with === seat),
    allowed: allowedFor(state, seat, now),
  };
}

const STEPPED_OUT_EVENTS: ReadonlySet<EngineEvent["type"]> = new Set(["stepped-out", "brought-back", "session-ended"]);

/** The events among `events` that `seat` may learn of, judged on the state after the command. */
export function filterEvents(state: SessionState, seat: Seat, events: EngineEvent[]): EngineEvent[] {
  if (seat === "therapist") return [...events];
  if (!state.admitted[seat]) return [];
  if (state.steppedOut === seat) return events.filter((e) => STEPPED_OUT_EVENTS.has(e.type));
  return events.filter((e) => e.type !== "nudged" || e.to === seat);
}
