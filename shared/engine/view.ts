/**
 * Per-seat views, updates and event filtering: the only forms in which session state leaves the server.
 * Privacy boundaries live here: unrevealed answers, therapist notes, nudges to the other partner and the
 * private channel of a step-out never reach a partner who may not see them.
 *
 * A view describes a version, not a moment: it depends on the state alone, so the view a seat builds by applying
 * updates and the one a fresh snapshot gives are the same at every version.
 *
 * A view shares data with the state and the catalogue instead of copying it: committed states are never
 * mutated (the engine drafts fresh containers and never changes an entry it already holds), and a view is
 * serialized when it is emitted. Callers must treat a view as read-only.
 */
import type {
  AllowedCommand,
  Appended,
  ConversationKey,
  EngineEvent,
  Seat,
  SessionCore,
  SessionState,
  SessionView,
  StepView,
  ViewUpdate,
} from "../protocol.ts";
import { sameValue } from "../delta.ts";
import { CONVERSATION_KEYS, isPartner, otherPartner } from "../protocol.ts";
import { type Current, current, lookupExercise, roleOf } from "./model.ts";
import { allowedFor, type GuardedType, guard } from "./rules.ts";

/** A view without its conversation lists: what a seat sees of the core. */
export type CoreView = Omit<SessionView, ConversationKey>;

const PRIMARY_COMMAND: Record<StepView["kind"], GuardedType> = {
  say: "say",
  choose: "choose",
  "private-answer": "answer",
  talk: "end-turn",
};

function stepView(state: SessionCore, seat: Seat, cur: Current): StepView {
  const { step, turn } = cur;
  const role = roleOf(turn, seat);
  const stems = role === "therapist" ? step.stems?.all : (step.stems?.[role] ?? step.stems?.all);
  const view: StepView = {
    id: step.id,
    title: step.title,
    kind: step.kind,
    actor: step.actor,
    role,
    yourMove: guard(state, seat, PRIMARY_COMMAND[step.kind]) === null,
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

/** A partner's own safety answers (never the other's); undefined for the therapist or when there are none. */
function ownSafety(state: SessionCore, seat: Seat): SessionView["yourSafety"] {
  if (!isPartner(seat) || state.mode !== "therapist") return undefined;
  const check = state.safety.checks[seat];
  const asked = state.safety.asks[seat];
  return { ...(check ? { check: check.answer } : {}), ...(asked ? { asked } : {}) };
}

function waitingView(state: SessionCore, seat: Seat): CoreView {
  const yourSafety = ownSafety(state, seat);
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
    ...(yourSafety ? { yourSafety } : {}),
    allowed: allowedFor(state, seat),
  };
}

/** What `seat` sees of the core: its view without the conversation lists. */
export function buildCoreView(state: SessionCore, seat: Seat): CoreView {
  if (isPartner(seat) && !state.admitted[seat]) return waitingView(state, seat);
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
        step: stepView(state, seat, cur),
      }
    : null;
  const yourSafety = ownSafety(state, seat);
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
    ...(seat === "therapist" && state.mode === "therapist" ? { safety: state.safety } : {}),
    ...(yourSafety ? { yourSafety } : {}),
    allowed: allowedFor(state, seat),
  };
}

type EntryOf<K extends ConversationKey> = SessionState[K][number];
type Visibility = { [K in ConversationKey]: ((entry: EntryOf<K>) => boolean) | boolean };

const NOTHING: Visibility = { transcript: false, checkIns: false, nudges: false, notes: false, privateMessages: false };
const EVERYTHING: Visibility = { transcript: true, checkIns: true, nudges: true, notes: true, privateMessages: true };

/**
 * Which entries of each conversation list `seat` may see, and a key that changes exactly when that rule does
 * (then entries seen before may vanish or appear, which no append can express).
 */
function visibility(state: SessionCore, seat: Seat): { key: string; rule: Visibility } {
  if (seat === "therapist") return { key: "all", rule: EVERYTHING };
  if (!state.admitted[seat]) return { key: "waiting", rule: NOTHING };
  const out = state.steppedOut === seat;
  return {
    key: out ? "out" : "in",
    rule: {
      transcript: true,
      checkIns: true,
      nudges: (n) => n.to === seat,
      notes: false,
      // The one stepped out sees no private conversation; the one who stayed sees the ones they were part of.
      privateMessages: out ? false : (m) => m.with === seat,
    },
  };
}

function visible<K extends ConversationKey>(rule: Visibility[K], list: readonly EntryOf<K>[]): EntryOf<K>[] {
  if (rule === true) return list as EntryOf<K>[];
  if (rule === false) return [];
  return list.filter(rule as (entry: EntryOf<K>) => boolean);
}

/** The part of the state `seat` may see. */
export function buildView(state: SessionState, seat: Seat): SessionView {
  const { rule } = visibility(state, seat);
  const view = buildCoreView(state, seat) as SessionView;
  for (const key of CONVERSATION_KEYS) {
    (view as unknown as Record<ConversationKey, unknown[]>)[key] = visible(rule[key], state[key]);
  }
  return view;
}

/**
 * What changed in `seat`'s view from `prev` to `next` (consecutive versions), given the entries the command
 * appended: never the whole conversation. Null when no update can say it — the seat's view of older entries
 * changes (admitted from the waiting room, stepped out or back in) — and the seat needs a fresh snapshot instead.
 */
export function buildUpdate(
  prev: SessionCore,
  next: SessionCore,
  appended: Appended,
  seat: Seat,
  events: EngineEvent[],
): ViewUpdate | null {
  const before = visibility(prev, seat);
  const after = visibility(next, seat);
  if (before.key !== after.key) return null;
  const was = buildCoreView(prev, seat);
  const now = buildCoreView(next, seat);
  const update: ViewUpdate = { version: next.version, from: prev.version, events: filterEvents(next, seat, events) };
  const set: Record<string, unknown> = {};
  let changed = false;
  for (const key of Object.keys(now) as (keyof CoreView)[]) {
    if (key === "version" || key === "allowed") continue;
    if (!sameValue(was[key], now[key])) {
      set[key] = now[key];
      changed = true;
    }
  }
  if (changed) update.set = set as ViewUpdate["set"];
  const allowed: AllowedCommand[] = [];
  now.allowed.forEach((entry, i) => {
    if (!sameValue(was.allowed[i], entry)) allowed.push(entry);
  });
  if (allowed.length > 0) update.allowed = allowed;
  const append: Record<string, unknown[]> = {};
  let appendedAny = false;
  for (const key of CONVERSATION_KEYS) {
    const added = appended[key];
    if (!added || added.length === 0) continue;
    const shown = visible(after.rule[key], added as EntryOf<typeof key>[]);
    if (shown.length > 0) {
      append[key] = shown;
      appendedAny = true;
    }
  }
  if (appendedAny) update.append = append as ViewUpdate["append"];
  return update;
}

const STEPPED_OUT_EVENTS: ReadonlySet<EngineEvent["type"]> = new Set(["stepped-out", "brought-back", "session-ended"]);
/** Events for the therapist alone: what a partner said privately about safety. */
const THERAPIST_EVENTS: ReadonlySet<EngineEvent["type"]> = new Set(["alone-asked", "safety-answered"]);

/** The events among `events` that `seat` may learn of, judged on the state after the command. */
export function filterEvents(state: SessionCore, seat: Seat, events: EngineEvent[]): EngineEvent[] {
  if (seat === "therapist") return [...events];
  if (!state.admitted[seat]) return [];
  if (state.steppedOut === seat) return events.filter((e) => STEPPED_OUT_EVENTS.has(e.type));
  return events.filter((e) => !THERAPIST_EVENTS.has(e.type) && (e.type !== "nudged" || e.to === seat));
}
