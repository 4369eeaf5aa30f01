/**
 * Parsing untrusted commands and the handlers that apply an accepted command to a draft of the state.
 * A handler runs only after the guard allowed the command type; it checks the payload and may still refuse,
 * in which case the draft is thrown away.
 */
import { z } from "zod";
import { sealedTextMax } from "../crypto.ts";
import type { AgreementFields, AnswerFields, ExerciseDefinition } from "../exercise-format.ts";
import { FORMAT_LIMITS, validateExercise } from "../exercise-format.ts";
import type {
  Actor,
  Agreement,
  AgreementOffer,
  CheckInAnswer,
  Command,
  CommandError,
  Conversation,
  EngineEvent,
  GuessEntry,
  IdeaOrigin,
  Partner,
  Seat,
  SessionCore,
  SystemCommand,
} from "../protocol.ts";
import {
  CommandSchema,
  ErrorCode,
  GUESS_MARKS,
  illFormedTextAt,
  illFormedTextError,
  isPartner,
  LIMITS,
  otherPartner,
  SeatSchema,
} from "../protocol.ts";
import {
  type Current,
  current,
  endExercise,
  enterStep,
  follow,
  freeze,
  lookupExercise,
  pickOptions,
  questionOf,
  refuse,
  thaw,
} from "./model.ts";

export type AnyCommand = Command | SystemCommand;

/** The most time a partner may add to a step at once (guided sessions; the therapist's bound is LIMITS'). */
export const PARTNER_EXTEND_MAX_SECONDS = 600;

const SystemCommandSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("presence"), seat: SeatSchema, online: z.boolean() }),
  z.strictObject({ type: z.literal("time-up") }),
]);

const ACTORS: readonly unknown[] = ["a", "b", "therapist", "system"];
/** The length limits of typed words in commands: going over one is TEXT_TOO_LONG rather than a malformed command. */
const TEXT_MAXIMA: ReadonlySet<number> = new Set([
  // The schema bounds a typed text by its longest sealed form (shared/engine/texts.ts checks the session's own).
  sealedTextMax(LIMITS.ideaMax),
  sealedTextMax(LIMITS.textMax),
  sealedTextMax(LIMITS.guessTextMax),
  sealedTextMax(LIMITS.agreementTextMax),
  sealedTextMax(LIMITS.reflectionWordMax),
]);

function describe(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".");
  return `${path || "command"}: ${issue.message}`;
}

/** Parses an untrusted command from `actor`: the parsed command, or the refusal naming the faulty field. */
export function parseCommand(
  command: unknown,
  actor: unknown,
): { ok: true; command: AnyCommand; actor: Actor } | { ok: false; error: CommandError } {
  if (!ACTORS.includes(actor)) {
    return { ok: false, error: refuse(ErrorCode.INVALID_COMMAND, "actor: must be a, b, therapist or system") };
  }
  const who = actor as Actor;
  const illFormed = illFormedTextAt(command);
  if (illFormed) return { ok: false, error: illFormedTextError(illFormed) };
  const schema = who === "system" ? SystemCommandSchema : CommandSchema;
  const result = schema.safeParse(command);
  if (result.success) return { ok: true, command: result.data, actor: who };
  const issues = result.error.issues;
  const tooLong = issues.find(
    (i) => i.code === "too_big" && i.origin === "string" && TEXT_MAXIMA.has(Number(i.maximum)),
  );
  if (tooLong) return { ok: false, error: refuse(ErrorCode.TEXT_TOO_LONG, describe(tooLong)) };
  const message =
    who === "system"
      ? `${issues.map(describe).join("; ")} (the server may only send presence and time-up)`
      : issues.map(describe).join("; ");
  return { ok: false, error: refuse(ErrorCode.INVALID_COMMAND, message) };
}

/** What an answer lacks or has too much of for the step's fields; null when it fits. */
function answerProblem(fields: AnswerFields | undefined, answer: CheckInAnswer): string | null {
  const f = fields ?? {};
  if (f.rating) {
    if (answer.rating === undefined) return "answer.rating: a rating is required";
    if (answer.rating < f.rating.min || answer.rating > f.rating.max) {
      return `answer.rating: must be from ${f.rating.min} to ${f.rating.max}`;
    }
  } else if (answer.rating !== undefined) return "answer.rating: this step asks for no rating";
  if (f.feelings) {
    if (answer.feeling === undefined) return "answer.feeling: a feeling is required";
    if (!f.feelings.includes(answer.feeling)) return `answer.feeling: must be one of ${f.feelings.join(", ")}`;
  } else if (answer.feeling !== undefined) return "answer.feeling: this step asks for no feeling";
  if (answer.note !== undefined && !f.note) return "answer.note: this step asks for no note";
  if (f.ideas) {
    if (answer.ideas === undefined) return "answer.ideas: write at least one idea";
    if (answer.ideas.length > f.ideas.max) return `answer.ideas: at most ${f.ideas.max}`;
  } else if (answer.ideas !== undefined) return "answer.ideas: this step asks for no ideas";
  return null;
}

/** The new entries a command adds; handlers push here and never into the state's own lists. */
export type Additions = Conversation & { custom: ExerciseDefinition[] };

/** Empty additions for one command. */
export function noAdditions(): Additions {
  return { transcript: [], checkIns: [], nudges: [], notes: [], privateMessages: [], guesses: [], custom: [] };
}

interface Ctx {
  s: SessionCore;
  /** Where the command's new entries go. */
  add: Additions;
  actor: Actor;
  now: number;
  /** The version the state gets if the command applies. */
  v: number;
  events: EngineEvent[];
}

/** Applies an allowed command to the draft `ctx.s`; returns a refusal when the payload does not fit. */
export function handle(ctx: Ctx, command: AnyCommand): CommandError | null {
  const { s, add, actor, now, v, events } = ctx;
  const cur = current(s);
  switch (command.type) {
    case "start-exercise": {
      const id = command.exerciseId ?? s.agenda[s.agendaNext];
      if (id === undefined) {
        return refuse(ErrorCode.UNKNOWN_EXERCISE, "exerciseId: the agenda has no exercise left; name one");
      }
      const def = lookupExercise(s, id);
      if (!def) return refuse(ErrorCode.UNKNOWN_EXERCISE, `exerciseId: there is no exercise '${id}'`);
      if (def.modes && !def.modes.includes(s.mode)) {
        return refuse(ErrorCode.NOT_IN_MODE, `exerciseId: '${id}' does not run in a ${s.mode} session`);
      }
      const at = s.agenda.indexOf(id, s.agendaNext);
      if (at >= 0) s.agendaNext = at + 1;
      s.phase = "exercise";
      events.push({ type: "exercise-started", exerciseId: def.id });
      enterStep(s, def, 0, command.firstSpeaker ?? s.firstSpeaker ?? "a", 0, now, events, null, { seed: command.seed });
      return null;
    }
    case "set-first-speaker":
      s.firstSpeaker = command.partner;
      return null;
    case "say": {
      if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      if (s.channel === "typed" && (command.text === undefined || command.text.trim() === "")) {
        return refuse(ErrorCode.TEXT_REQUIRED, "text: type what you want to say");
      }
      if (s.channel === "spoken" && command.text !== undefined) {
        return refuse(ErrorCode.TEXT_NOT_ALLOWED, "text: this session is spoken; say it aloud and tap done");
      }
      add.transcript.push({
        v,
        at: now,
        seat: actor as Exclude<Actor, "system">,
        kind: "say",
        exerciseId: cur.def.id,
        stepId: cur.step.id,
        ...(command.text !== undefined ? { text: command.text } : {}),
      });
      const turn = s.turn!;
      if (cur.step.actor === "both") {
        turn.said = [...(turn.said ?? []), actor as Partner];
        if (turn.said.length < 2) return null;
      }
      follow(s, cur.def, cur.step.next!, now, events);
      return null;
    }
    case "choose": {
      if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      const option = cur.step.options?.find((o) => o.id === command.option);
      if (!option) {
        const ids = (cur.step.options ?? []).map((o) => o.id).join(", ");
        return refuse(ErrorCode.UNKNOWN_OPTION, `option: '${command.option}' is not one of ${ids}`);
      }
      add.transcript.push({
        v,
        at: now,
        seat: actor as Exclude<Actor, "system">,
        kind: "choice",
        exerciseId: cur.def.id,
        stepId: cur.step.id,
        option: option.id,
        label: option.label,
      });
      follow(s, cur.def, option.next, now, events);
      return null;
    }
    case "answer": {
      if (!cur || !isPartner(actor)) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      const problem = answerProblem(cur.step.answer, command.answer);
      if (problem) return refuse(ErrorCode.INVALID_ANSWER, problem);
      const turn = s.turn!;
      const mine = command.answer;
      turn.answers[actor] = mine;
      const theirs = turn.answers[otherPartner(actor)];
      if (!theirs) return null;
      const answers = actor === "a" ? { a: mine, b: theirs } : { a: theirs, b: mine };
      add.checkIns.push({ v, at: now, exerciseId: cur.def.id, stepId: cur.step.id, answers });
      if (cur.step.answer?.ideas) {
        // A later pick step offers these: they must stay readable in the core for the rest of the exercise.
        turn.ideas = { ...turn.ideas, [cur.step.id]: { a: answers.a.ideas ?? [], b: answers.b.ideas ?? [] } };
      }
      events.push({ type: "revealed", exerciseId: cur.def.id, stepId: cur.step.id });
      follow(s, cur.def, cur.step.next!, now, events);
      return null;
    }
    case "guess":
      if (!cur || !isPartner(actor)) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      return takeGuess(ctx, cur, actor, command);
    case "mark": {
      if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      const mark = GUESS_MARKS.find((m) => m.id === command.mark)!;
      add.transcript.push({
        v,
        at: now,
        seat: actor as Exclude<Actor, "system">,
        kind: "choice",
        exerciseId: cur.def.id,
        stepId: cur.step.id,
        option: mark.id,
        label: mark.label,
      });
      follow(s, cur.def, cur.step.next!, now, events);
      return null;
    }
    case "pick":
      if (!cur || !isPartner(actor)) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      return takePick(ctx, cur, actor, command.option);
    case "agree":
      if (!cur || actor === "system") return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      return takeAgreement(ctx, cur, actor, command);
    case "acknowledge": {
      if (!cur || !isPartner(actor)) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      const offer = s.turn!.offer!;
      keepAgreement(ctx, cur, offer, actor);
      return null;
    }
    case "post":
      if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      add.transcript.push({
        v,
        at: now,
        seat: actor as Exclude<Actor, "system">,
        kind: "post",
        exerciseId: cur.def.id,
        stepId: cur.step.id,
        text: command.text,
      });
      return null;
    case "end-turn":
      if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      follow(s, cur.def, cur.step.next!, now, events);
      return null;
    case "time-up": {
      if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      if (cur.step.next) {
        follow(s, cur.def, cur.step.next, now, events);
      } else {
        // A choice cannot be made for the partner: the step simply waits for it without a clock.
        delete s.turn!.deadline;
      }
      return null;
    }
    case "call-time-out": {
      const minutes = command.minutes ?? LIMITS.timeOutDefaultMinutes;
      s.timeOut = { by: actor as Partner, at: now, returnAt: now + minutes * 60_000 };
      freeze(s, now);
      events.push({ type: "time-out-called", by: actor as Partner, returnAt: s.timeOut.returnAt });
      return null;
    }
    case "end-time-out":
      s.timeOut = null;
      thaw(s, now);
      events.push({ type: "time-out-ended" });
      return null;
    case "pause":
      s.paused = { at: now, by: actor };
      freeze(s, now);
      events.push({ type: "paused" });
      return null;
    case "resume":
      s.paused = null;
      thaw(s, now);
      events.push({ type: "resumed" });
      return null;
    case "end-exercise":
      endExercise(s, now, true, events, { by: actor });
      return null;
    case "end-session":
      if (s.turn) endExercise(s, now, true, events, { by: actor });
      s.phase = "ended";
      s.paused = null;
      s.timeOut = null;
      s.steppedOut = null;
      events.push({ type: "session-ended" });
      return null;
    case "admit": {
      const newcomers = [...new Set(command.partners)].filter((p) => !s.admitted[p]);
      if (newcomers.length === 0) {
        return refuse(ErrorCode.ALREADY_ADMITTED, `partners: ${command.partners.join(", ")} already admitted`);
      }
      for (const p of newcomers) {
        s.admitted[p] = true;
        events.push({ type: "admitted", partner: p });
      }
      return null;
    }
    case "skip-step": {
      if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      const next = cur.step.kind === "choose" ? cur.step.options?.[0]?.next : cur.step.next;
      if (!next) throw new Error(`step '${cur.step.id}' leads nowhere`);
      follow(s, cur.def, next, now, events);
      return null;
    }
    case "back-step": {
      if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      const history = cur.turn.history;
      const previous = history[history.length - 2];
      const index = previous ? cur.def.steps.findIndex((st) => st.id === previous.stepId) : -1;
      if (!previous || index < 0) return refuse(ErrorCode.NO_PREVIOUS_STEP, "This is the first step of the exercise.");
      const from = { ...s.turn!, history: history.slice(0, -2) };
      // The step comes back with the question it showed, rather than drawing a new one.
      enterStep(s, cur.def, index, previous.speaker, previous.cycle, now, events, from, {
        question: previous.question,
      });
      return null;
    }
    case "hand-floor": {
      if (!cur) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      // The new speaker's turn starts where every turn starts: the first step of the cycle, never in the middle of
      // the old speaker's (so nobody is asked to confirm a mirror of their own words). Mid-cycle, the old speaker's
      // turn counts as had; at the first step the floor simply changes hands before anything was said.
      const turn = cur.turn;
      const lastCycle = cur.def.cycles === undefined ? Number.POSITIVE_INFINITY : cur.def.cycles - 1;
      const cycle = turn.stepIndex > 0 ? Math.min(turn.cycle + 1, lastCycle) : turn.cycle;
      enterStep(s, cur.def, 0, otherPartner(turn.speaker), cycle, now, events, turn);
      return null;
    }
    case "adjust-timer": {
      const turn = s.turn;
      if (!turn) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      if (isPartner(actor) && (command.seconds <= 0 || command.seconds > PARTNER_EXTEND_MAX_SECONDS)) {
        return refuse(
          ErrorCode.INVALID_COMMAND,
          `seconds: a partner can add time, up to ${PARTNER_EXTEND_MAX_SECONDS / 60} minutes at once`,
        );
      }
      const delta = command.seconds * 1000;
      if (turn.deadline !== undefined) turn.deadline = Math.max(now, turn.deadline + delta);
      else if (turn.remainingMs !== undefined) turn.remainingMs = Math.max(0, turn.remainingMs + delta);
      return null;
    }
    case "nudge":
      add.nudges.push({ v, at: now, to: command.to, text: command.text });
      events.push({ type: "nudged", to: command.to });
      return null;
    case "message-both":
      add.transcript.push({
        v,
        at: now,
        seat: "therapist",
        kind: "message",
        ...(cur ? { exerciseId: cur.def.id, stepId: cur.step.id } : {}),
        text: command.text,
      });
      return null;
    case "note":
      add.notes.push({ v, at: now, text: command.text });
      return null;
    case "step-out":
      s.steppedOut = command.partner;
      freeze(s, now);
      events.push({ type: "stepped-out", partner: command.partner });
      return null;
    case "bring-back":
      s.steppedOut = null;
      thaw(s, now);
      events.push({ type: "brought-back" });
      return null;
    case "add-exercise": {
      const result = validateExercise(command.definition);
      if (!result.ok) {
        return refuse(ErrorCode.INVALID_DEFINITION, result.problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
      }
      const id = result.definition.id;
      if (lookupExercise(s, id)) {
        return refuse(ErrorCode.INVALID_DEFINITION, `id: an exercise '${id}' already exists; choose another id`);
      }
      s.custom.push(result.definition);
      add.custom.push(result.definition);
      s.agenda.push(id);
      return null;
    }
    case "private-message":
      add.privateMessages.push({
        v,
        at: now,
        seat: actor as Exclude<Actor, "system">,
        with: otherPartner(s.steppedOut!),
        text: command.text,
      });
      return null;
    case "safety-check": {
      const partner = actor as Partner;
      s.safety.checks[partner] = { answer: command.answer, at: now };
      events.push({ type: "safety-answered", partner });
      return null;
    }
    case "ask-alone": {
      const partner = actor as Partner;
      s.safety.asks[partner] = { at: now, seen: false };
      events.push({ type: "alone-asked", partner });
      return null;
    }
    case "seen-ask": {
      const ask = s.safety.asks[command.partner];
      if (!ask) return refuse(ErrorCode.NOT_IN_MODE, `partner: ${command.partner} has not asked to talk alone`);
      s.safety.asks[command.partner] = { ...ask, seen: true };
      return null;
    }
    case "reflect": {
      const partner = actor as Partner;
      const lines = [...new Set(command.lines ?? [])].sort((x, y) => x - y);
      s.reflections[partner] = {
        heard: command.heard,
        ...(command.word !== undefined ? { word: command.word } : {}),
        keep: command.keep,
        lines,
        at: now,
      };
      if (s.reflections[otherPartner(partner)]) events.push({ type: "reflected" });
      return null;
    }
    case "presence":
      s.presence[command.seat] = command.online;
      return null;
  }
}

type GuessCommand = Extract<AnyCommand, { type: "guess" }>;
type AgreeCommand = Extract<AnyCommand, { type: "agree" }>;

/**
 * One partner's side of a guess step: the speaker's answer about themself, or the listener's guess. Held in the
 * core, seen by its author alone, until both are in; then both are revealed together (to everyone) and kept.
 */
function takeGuess(ctx: Ctx, cur: Current, actor: Partner, command: GuessCommand): CommandError | null {
  const { s, add, now, v, events } = ctx;
  const choices = cur.step.guess?.choices;
  let entry: GuessEntry;
  if (choices) {
    if (command.text !== undefined) return refuse(ErrorCode.TEXT_NOT_ALLOWED, "text: pick one of the choices");
    const choice = choices.find((c) => c.id === command.choice);
    if (!choice) {
      return refuse(
        ErrorCode.UNKNOWN_OPTION,
        `choice: '${command.choice ?? ""}' is not one of ${choices.map((c) => c.id).join(", ")}`,
      );
    }
    entry = { choice: choice.id, label: choice.label };
  } else {
    if (command.choice !== undefined) return refuse(ErrorCode.UNKNOWN_OPTION, "choice: this step has no choices");
    if (s.channel === "spoken") {
      if (command.text !== undefined) {
        return refuse(
          ErrorCode.TEXT_NOT_ALLOWED,
          "text: this session is spoken; keep it in mind and say it at the reveal",
        );
      }
      entry = {};
    } else {
      if (command.text === undefined || command.text.trim() === "") {
        return refuse(ErrorCode.TEXT_REQUIRED, "text: write your answer");
      }
      entry = { text: command.text };
    }
  }
  const turn = s.turn!;
  turn.guesses = { ...turn.guesses, [actor]: entry };
  const about = turn.speaker;
  const answer = turn.guesses[about];
  const guess = turn.guesses[otherPartner(about)];
  if (!answer || !guess) return null;
  turn.revealed = true;
  const question = questionOf(cur.def, turn.question);
  add.guesses.push({
    v,
    at: now,
    exerciseId: cur.def.id,
    stepId: cur.step.id,
    about,
    ...(question ? { question } : {}),
    answer,
    guess,
  });
  events.push({ type: "revealed", exerciseId: cur.def.id, stepId: cur.step.id });
  return null;
}

/** A pick: settled at once by a single actor, or once both partners pick the same idea. */
function takePick(ctx: Ctx, cur: Current, actor: Partner, optionId: string): CommandError | null {
  const { s, add, now, v, events } = ctx;
  const turn = s.turn!;
  const options = pickOptions(cur.step, turn);
  const option = options.find((o) => o.id === optionId);
  if (!option) {
    return refuse(
      ErrorCode.UNKNOWN_OPTION,
      `option: '${optionId}' is not one of ${options.map((o) => o.id).join(", ")}`,
    );
  }
  if (cur.step.actor === "both") {
    if (turn.picks?.[actor] === option.id) {
      return refuse(ErrorCode.ALREADY_ANSWERED, "You picked this one — waiting for your partner.");
    }
    turn.picks = { ...turn.picks, [actor]: option.id };
    if (turn.picks[otherPartner(actor)] !== option.id) return null;
  }
  // The idea travels on with where it was written, so a sealed one can still be opened wherever it is shown.
  const from: IdeaOrigin = { stepId: cur.step.pick!.from, by: option.by, index: option.index };
  add.transcript.push({
    v,
    at: now,
    seat: actor,
    kind: "choice",
    exerciseId: cur.def.id,
    stepId: cur.step.id,
    option: option.id,
    label: option.label,
    idea: from,
  });
  turn.picked = { ...turn.picked, [cur.step.id]: { option: option.id, text: option.label, from } };
  follow(s, cur.def, cur.step.next!, now, events);
  return null;
}

/** What is wrong with an agreement for its step (judged at `now`), or null when it fits. */
function agreementProblem(
  fields: AgreementFields,
  channel: SessionCore["channel"],
  command: AgreeCommand,
  now: number,
): CommandError | null {
  const bad = (message: string) => refuse(ErrorCode.INVALID_AGREEMENT, message);
  if (command.what !== undefined || command.option !== undefined) {
    if (!fields.what) return bad("what: this step asks only for a time");
  }
  if (command.what !== undefined && command.option !== undefined) {
    return bad("what: choose one of the options or write your own, not both");
  }
  if (command.what !== undefined) {
    if (channel === "spoken") {
      return refuse(ErrorCode.TEXT_NOT_ALLOWED, "what: this session is spoken; choose an option or say it aloud");
    }
    if (command.what.trim() === "") return refuse(ErrorCode.TEXT_REQUIRED, "what: write what you agree on");
  }
  if (command.option !== undefined && !fields.options?.some((o) => o.id === command.option)) {
    const ids = (fields.options ?? []).map((o) => o.id).join(", ");
    return refuse(
      ErrorCode.UNKNOWN_OPTION,
      ids ? `option: '${command.option}' is not one of ${ids}` : "option: this step has no options",
    );
  }
  const gaveWhat = command.what !== undefined || command.option !== undefined;
  // In the spoken channel a "what" without options is said aloud: the record then holds the time alone.
  const canGiveWhat = channel === "typed" || (fields.options?.length ?? 0) > 0;
  if (fields.what === "required" && !gaveWhat && canGiveWhat) {
    return bad(fields.options ? "what: choose one of the options or write your own" : "what: write what you agree on");
  }
  if (command.when !== undefined) {
    if (!fields.when) return bad("when: this step asks for no time");
    const at = Date.parse(command.when);
    if (!Number.isFinite(at)) return bad("when: not a date and time");
    if (at <= now) return bad("when: pick a time in the future");
    const hours = fields.withinHours ?? FORMAT_LIMITS.withinHoursMax;
    if (at > now + hours * 3_600_000) {
      return bad(`when: pick a time within the next ${hours === 24 ? "day" : `${hours} hours`}`);
    }
  } else if (fields.when === "required") {
    return bad("when: pick a date and time");
  }
  // Words a spoken session cannot keep are agreed aloud: then the moment (and a time, if given) is the record.
  const saidAloud = fields.what !== undefined && !canGiveWhat;
  if (!gaveWhat && command.when === undefined && !saidAloud) return bad("agree: give what you agree on, or when");
  return null;
}

/** An agreement: kept at once, or offered to the other partner when the step asks for an acknowledgement. */
function takeAgreement(ctx: Ctx, cur: Current, actor: Seat, command: AgreeCommand): CommandError | null {
  const fields = cur.step.agreement ?? {};
  const problem = agreementProblem(fields, ctx.s.channel, command, ctx.now);
  if (problem) return problem;
  const offer: AgreementOffer = {
    by: actor,
    at: ctx.now,
    ...(command.what !== undefined ? { what: command.what } : {}),
    ...(command.option !== undefined ? { option: command.option } : {}),
    ...(command.when !== undefined ? { when: command.when } : {}),
  };
  if (cur.step.actor === "both" || fields.acknowledge) {
    // Offered (or offered anew, or countered by the other partner): it waits for the one who did not offer it.
    ctx.s.turn!.offer = offer;
    return null;
  }
  keepAgreement(ctx, cur, offer, undefined);
  return null;
}

/** Keeps an agreement in the core and moves on. */
function keepAgreement(ctx: Ctx, cur: Current, offer: AgreementOffer, acknowledgedBy: Partner | undefined): void {
  const { s, now, v, events } = ctx;
  const fields = cur.step.agreement ?? {};
  const label = offer.option ? fields.options?.find((o) => o.id === offer.option)?.label : undefined;
  const picked = fields.picked ? s.turn!.picked?.[fields.picked] : undefined;
  const what = label ?? offer.what;
  const agreement: Agreement = {
    v,
    at: now,
    exerciseId: cur.def.id,
    stepId: cur.step.id,
    by: offer.by,
    ...(acknowledgedBy ? { acknowledgedBy } : {}),
    ...(what !== undefined ? { what } : {}),
    ...(offer.option !== undefined ? { option: offer.option } : {}),
    ...(picked ? { picked: picked.text, ...(picked.from ? { pickedFrom: picked.from } : {}) } : {}),
    ...(offer.when !== undefined ? { when: offer.when } : {}),
  };
  s.agreements.push(agreement);
  events.push({ type: "agreed", exerciseId: cur.def.id, stepId: cur.step.id });
  follow(s, cur.def, cur.step.next!, now, events);
}

/** The form of an accepted command kept in the log: an uploaded definition as validated, nothing else changed. */
export function loggedForm(command: AnyCommand): AnyCommand {
  if (command.type !== "add-exercise") return command;
  const result = validateExercise(command.definition);
  return result.ok ? { type: "add-exercise", definition: result.definition } : command;
}
