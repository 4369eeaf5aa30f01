/**
 * Per-seat views, updates and event filtering: the only forms in which session state leaves the server.
 * Privacy boundaries live here: unrevealed answers (and the ideas in them), unrevealed guesses, therapist notes,
 * nudges to the other partner and the private channel of a step-out never reach a seat that may not see them.
 *
 * A view describes a version, not a moment: it depends on the state alone, so the view a seat builds by applying
 * updates and the one a fresh snapshot gives are the same at every version.
 *
 * A view shares data with the state and the catalogue instead of copying it: committed states are never
 * mutated (the engine drafts fresh containers and never changes an entry it already holds), and a view is
 * serialized when it is emitted. Callers must treat a view as read-only.
 */
import type { ExerciseDefinition, StepDefinition } from "../exercise-format.ts";
import { answeredSteps } from "../exercise-format.ts";
import type {
  AgreementStepView,
  AllowedCommand,
  Appended,
  ConversationKey,
  EngineEvent,
  Seat,
  SessionCore,
  SessionState,
  GuessStepView,
  Reflection,
  ReflectionView,
  SessionView,
  CompletedExercise,
  CompletedView,
  StepView,
  TurnState,
  ViewUpdate,
} from "../protocol.ts";
import { sameValue } from "../delta.ts";
import { CONVERSATION_KEYS, GUESS_MARKS, isPartner, otherPartner } from "../protocol.ts";
import { floorSuggestionFor } from "./airtime.ts";
import { type Current, current, lookupExercise, pickOptions, questionOf, roleOf } from "./model.ts";
import { allowedFor, type GuardedType, guard } from "./rules.ts";

/** A view without its conversation lists: what a seat sees of the core. */
export type CoreView = Omit<SessionView, ConversationKey>;

const PRIMARY_COMMAND: Record<StepView["kind"], GuardedType> = {
  say: "say",
  choose: "choose",
  "private-answer": "answer",
  talk: "end-turn",
  guess: "guess",
  pick: "pick",
  agreement: "agree",
};

/** Whether the step waits for this seat now (not merely allows it to act: an offer's author waits for an answer). */
function isYourMove(state: SessionCore, seat: Seat, cur: Current): boolean {
  const { step, turn } = cur;
  const may = (type: GuardedType) => guard(state, seat, type) === null;
  switch (step.kind) {
    case "guess":
      return may(turn.revealed ? "mark" : "guess");
    case "pick": {
      if (!may("pick")) return false;
      if (step.actor !== "both" || !isPartner(seat)) return true;
      // Having picked, a partner waits, unless the other picked something else: then both have a move.
      return turn.picks?.[seat] === undefined || turn.picks[otherPartner(seat)] !== undefined;
    }
    case "agreement":
      if (turn.offer) return may("acknowledge");
      return may("agree");
    default:
      return may(PRIMARY_COMMAND[step.kind]);
  }
}

function stepView(state: SessionCore, seat: Seat, cur: Current): StepView {
  const { def, step, turn } = cur;
  const role = roleOf(turn, seat);
  const stems = role === "therapist" ? step.stems?.all : (step.stems?.[role] ?? step.stems?.all);
  const prompt = step.kind === "guess" && turn.revealed && step.guess ? step.guess.reveal : step.prompt;
  const view: StepView = {
    id: step.id,
    title: step.title,
    kind: step.kind,
    actor: step.actor,
    role,
    yourMove: isYourMove(state, seat, cur),
    prompt: forChannel(prompt[role] ?? prompt.all ?? "", state.channel),
    stems: [...(stems ?? [])],
  };
  const question = questionOf(def, turn.question);
  if (question && turn.question) {
    const deck = def.decks?.find((d) => d.id === question.deck);
    view.question = {
      text: question.text,
      deck: question.deck,
      ...(deck?.title !== undefined ? { deckTitle: deck.title } : {}),
      number: turn.question.number,
      count: deck?.questions.length ?? 0,
    };
  }
  if (role === "therapist") {
    // What each partner's screen asks of them right now, so the console can show both sides at once.
    const partnerSide = (p: "a" | "b") => {
      const r = roleOf(turn, p) as "speaker" | "listener";
      return { role: r, prompt: prompt[r] ?? prompt.all ?? "", yourMove: isYourMove(state, p, cur) };
    };
    view.partners = { a: partnerSide("a"), b: partnerSide("b") };
  }
  if (step.kind === "guess") view.guess = guessView(seat, step, turn);
  if (step.kind === "pick") {
    view.pick = {
      together: step.actor === "both",
      ...(step.pick ? { from: step.pick.from } : {}),
      options: pickOptions(step, turn),
      ...(turn.picks ? { picks: turn.picks } : {}),
    };
  }
  if (step.kind === "agreement") view.agreement = agreementView(step, turn);
  const answers = answeredSteps(step);
  if (answers.length > 0) view.answers = { steps: answers, gather: step.gather ?? "latest" };
  if (step.options) view.options = step.options.map((o) => ({ id: o.id, label: o.label }));
  if (step.answer) view.answerFields = step.answer;
  if (turn.deadline !== undefined) view.deadline = turn.deadline;
  if (turn.remainingMs !== undefined) view.remainingMs = turn.remainingMs;
  if (step.durationSeconds !== undefined && !state.untimed) view.durationSeconds = step.durationSeconds;
  if (step.durationSeconds !== undefined && state.untimed) view.untimed = true;
  if (step.kind === "private-answer") {
    view.answered = { a: turn.answers.a !== undefined, b: turn.answers.b !== undefined };
    // Only the answer's author sees it before the reveal; the therapist waits for the reveal like the other partner.
    const own = isPartner(seat) ? turn.answers[seat] : undefined;
    if (own) view.yourAnswer = own;
  }
  return view;
}

/**
 * The closing reflection as `seat` sees it (only once the session ended): a partner's own answer, who has
 * answered, and once both have, both "heard" ratings to everyone — and the decision to keep, with the lines both
 * chose, to the partners alone.
 */
function reflectionView(state: SessionCore, seat: Seat): ReflectionView | undefined {
  if (state.phase !== "ended") return undefined;
  const r = state.reflections ?? {};
  const view: ReflectionView = { answered: { a: r.a !== undefined, b: r.b !== undefined } };
  if (isPartner(seat) && r[seat]) view.yours = r[seat];
  if (r.a && r.b) {
    const heard = (x: Reflection) => ({ heard: x.heard, ...(x.word !== undefined ? { word: x.word } : {}) });
    view.revealed = { heard: { a: heard(r.a), b: heard(r.b) } };
    if (isPartner(seat)) {
      const keep = r.a.keep && r.b.keep;
      view.revealed.keep = keep;
      view.revealed.lines = keep ? r.a.lines.filter((v) => r.b!.lines.includes(v)) : [];
    }
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

/**
 * A guess step as `seat` sees it: before the reveal only who is in, and the seat's own side (never the other's,
 * and nothing to the therapist); once both are in, both sides to every seat.
 */
function guessView(seat: Seat, step: StepDefinition, turn: TurnState): GuessStepView {
  const guesses = turn.guesses ?? {};
  const view: GuessStepView = {
    about: turn.speaker,
    submitted: { a: guesses.a !== undefined, b: guesses.b !== undefined },
  };
  if (step.guess?.choices) view.choices = step.guess.choices.map((c) => ({ id: c.id, label: c.label }));
  const answer = guesses[turn.speaker];
  const guess = guesses[otherPartner(turn.speaker)];
  if (turn.revealed && answer && guess) {
    view.revealed = { answer, guess };
    view.marks = GUESS_MARKS.map((m) => ({ id: m.id, label: m.label }));
  } else if (isPartner(seat) && guesses[seat]) {
    view.yours = guesses[seat];
  }
  return view;
}

/** An agreement step: what it asks for, and the offer waiting for an answer (open to every seat). */
function agreementView(step: StepDefinition, turn: TurnState): AgreementStepView {
  const fields = step.agreement ?? {};
  const view: AgreementStepView = { needsAcknowledgement: step.actor === "both" || fields.acknowledge === true };
  if (fields.what) view.what = fields.what;
  if (fields.when) view.when = fields.when;
  if (fields.withinHours !== undefined) view.withinHours = fields.withinHours;
  if (fields.options) view.options = fields.options.map((o) => ({ id: o.id, label: o.label }));
  const picked = fields.picked ? turn.picked?.[fields.picked] : undefined;
  if (picked) {
    view.picked = picked.text;
    if (picked.from) view.pickedFrom = picked.from;
  }
  if (turn.offer) {
    const label = turn.offer.option ? fields.options?.find((o) => o.id === turn.offer?.option)?.label : undefined;
    view.offer = { ...turn.offer, ...(label !== undefined ? { label } : {}) };
  }
  return view;
}

/**
 * A prompt in the words of the session's channel. Definitions may say "say it or type it" once for both channels;
 * a spoken session is never asked to type, and a typed one is asked to write.
 */
export function forChannel(text: string, channel: SessionCore["channel"]): string {
  const out = text.replace(/ \(say (it|them) or type (it|them)\)/gi, "");
  if (channel === "spoken") return out.replace(/ \(or type\)/gi, "");
  return out
    .replace(/\b(Say|Talk) \(or type\)/g, "Write")
    .replace(/\b(say|talk) \(or type\)/g, "write")
    .replace(/ \(or type\)/gi, "");
}

/** Whether an exercise has turns: a step acted by the speaker or the listener (then someone speaks first). */
export function hasTurns(def: ExerciseDefinition): boolean {
  return def.steps.some((s) => s.actor === "speaker" || s.actor === "listener");
}

/** A completed exercise with its title, outcome and the closing words of the path it took. */
function completedView(state: SessionCore, c: CompletedExercise): CompletedView {
  const def = lookupExercise(state, c.exerciseId);
  const title = def?.title ?? c.exerciseId;
  if (c.endedEarly) return { ...c, title, outcome: "stopped" };
  const ending = c.ending !== undefined ? def?.endings?.find((e) => e.id === c.ending) : undefined;
  if (ending)
    return { ...c, title, outcome: ending.outcome ?? "complete", words: ending.words, endingTitle: ending.title };
  return { ...c, title, outcome: "complete", ...(def?.closing !== undefined ? { words: def.closing } : {}) };
}

function waitingView(state: SessionCore, seat: Seat): CoreView {
  const yourSafety = ownSafety(state, seat);
  return {
    id: state.id,
    version: state.version,
    you: { seat },
    mode: state.mode,
    channel: state.channel,
    ...(state.encrypted ? { encrypted: true as const } : {}),
    names: {},
    // Whether the session is over is all a waiting partner learns of its progress.
    phase: state.phase === "ended" ? "ended" : "lobby",
    presence: { a: false, b: false, therapist: false },
    admitted: { a: false, b: false },
    waiting: true,
    agenda: [],
    agendaNext: 0,
    completed: [],
    firstSpeaker: "a",
    exercise: null,
    paused: null,
    timeOut: null,
    steppedOut: null,
    ...(yourSafety ? { yourSafety } : {}),
    agreements: [],
    allowed: allowedFor(state, seat),
  };
}

/** What `seat` sees of the core: its view without the conversation lists. */
export function buildCoreView(state: SessionCore, seat: Seat): CoreView {
  // A core is never changed once built (the engine drafts a new one per command), so its views can be kept with
  // it: the views an update builds of the state after a command are the ones the next command's update starts from.
  let views = coreViews.get(state);
  if (!views) {
    views = {};
    coreViews.set(state, views);
  }
  const known = views[seat];
  if (known && known.version === state.version) return known;
  const built = buildCoreViewAfresh(state, seat);
  views[seat] = built;
  return built;
}

/** Each core's views per seat, held only as long as the core itself (the server's record cache) is. */
const coreViews = new WeakMap<SessionCore, Partial<Record<Seat, CoreView>>>();

function buildCoreViewAfresh(state: SessionCore, seat: Seat): CoreView {
  if (isPartner(seat) && !state.admitted[seat]) return waitingView(state, seat);
  const cur = current(state);
  const agenda = state.agenda.flatMap((id) => {
    const def = lookupExercise(state, id);
    return def ? [{ id: def.id, title: def.title, summary: def.summary, turns: hasTurns(def) }] : [];
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
        roundFrom: cur.turn.roundFrom ?? 0,
        speaker: cur.turn.speaker,
        listener: otherPartner(cur.turn.speaker),
        step: stepView(state, seat, cur),
      }
    : null;
  const yourSafety = ownSafety(state, seat);
  const reflection = reflectionView(state, seat);
  const suggestion = floorSuggestionFor(state, seat);
  return {
    id: state.id,
    version: state.version,
    you: { seat },
    mode: state.mode,
    channel: state.channel,
    ...(state.encrypted ? { encrypted: true as const } : {}),
    names: state.names,
    phase: state.phase,
    presence: state.presence,
    admitted: state.admitted,
    waiting: false,
    agenda,
    agendaNext: state.agendaNext,
    completed: state.completed.map((c) => completedView(state, c)),
    firstSpeaker: state.firstSpeaker ?? "a",
    exercise,
    paused: state.paused,
    timeOut: state.timeOut,
    // The partner who stayed may know the other is out; the one out knows it of themselves.
    steppedOut: state.steppedOut,
    ...(seat === "therapist" && state.mode === "therapist" ? { safety: state.safety } : {}),
    ...(yourSafety ? { yourSafety } : {}),
    // Agreed together, so seen by every seat in the room; a core stored before agreements existed has none.
    agreements: state.agreements ?? [],
    ...(reflection ? { reflection } : {}),
    ...(seat === "therapist" && state.airtime ? { airtime: state.airtime } : {}),
    // Always present for a guided partner (null when none), so an update can take it away again.
    ...(suggestion !== undefined ? { floorSuggestion: suggestion } : {}),
    allowed: allowedFor(state, seat),
  };
}

type EntryOf<K extends ConversationKey> = SessionState[K][number];
type Visibility = { [K in ConversationKey]: ((entry: EntryOf<K>) => boolean) | boolean };

const NOTHING: Visibility = {
  transcript: false,
  checkIns: false,
  nudges: false,
  notes: false,
  privateMessages: false,
  guesses: false,
};
const EVERYTHING: Visibility = {
  transcript: true,
  checkIns: true,
  nudges: true,
  notes: true,
  privateMessages: true,
  guesses: true,
};

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
      // Only revealed guesses are ever in this list (unrevealed ones wait in the core's turn).
      guesses: true,
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
  // A copy: the core view is kept with its core and shared, so it is never changed.
  const view = { ...buildCoreView(state, seat) } as SessionView;
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
    if (key === "exercise") {
      const patch = exercisePatch(was.exercise, now.exercise);
      if (patch) {
        if (Object.keys(patch).length > 0) update.exercise = patch;
        continue;
      }
    }
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

type ExerciseView = NonNullable<SessionView["exercise"]>;

/**
 * The fields of the exercise that changed, when the same exercise goes on and the change can be said as a merge
 * (no field disappears); undefined when the exercise must be set whole (begun, ended, another one).
 */
function exercisePatch(was: ExerciseView | null, now: ExerciseView | null): Partial<ExerciseView> | undefined {
  if (!was || !now || was.id !== now.id) return undefined;
  for (const key of Object.keys(was)) if (!Object.hasOwn(now, key)) return undefined;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(now) as (keyof ExerciseView)[]) {
    if (!sameValue(was[key], now[key])) patch[key] = now[key];
  }
  return patch as Partial<ExerciseView>;
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
