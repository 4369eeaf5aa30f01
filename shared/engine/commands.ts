/**
 * Parsing untrusted commands and the handlers that apply an accepted command to a draft of the state.
 * A handler runs only after the guard allowed the command type; it checks the payload and may still refuse,
 * in which case the draft is thrown away.
 */
import { z } from "zod";
import type { AnswerFields, ExerciseDefinition } from "../exercise-format.ts";
import { validateExercise } from "../exercise-format.ts";
import type {
  Actor,
  CheckInAnswer,
  Command,
  CommandError,
  Conversation,
  EngineEvent,
  Partner,
  SessionCore,
  SystemCommand,
} from "../protocol.ts";
import {
  CommandSchema,
  ErrorCode,
  illFormedTextAt,
  illFormedTextError,
  isPartner,
  LIMITS,
  otherPartner,
  SeatSchema,
} from "../protocol.ts";
import { current, endExercise, enterStep, follow, freeze, lookupExercise, refuse, thaw } from "./model.ts";

export type AnyCommand = Command | SystemCommand;

const SystemCommandSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("presence"), seat: SeatSchema, online: z.boolean() }),
  z.strictObject({ type: z.literal("time-up") }),
]);

const ACTORS: readonly unknown[] = ["a", "b", "therapist", "system"];

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
  const tooLong = issues.find((i) => i.code === "too_big" && i.origin === "string" && i.maximum === LIMITS.textMax);
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
  return null;
}

/** The new entries a command adds; handlers push here and never into the state's own lists. */
export type Additions = Conversation & { custom: ExerciseDefinition[] };

/** Empty additions for one command. */
export function noAdditions(): Additions {
  return { transcript: [], checkIns: [], nudges: [], notes: [], privateMessages: [], custom: [] };
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
      enterStep(s, def, 0, command.firstSpeaker ?? "a", 0, now, events, null);
      return null;
    }
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
      events.push({ type: "revealed", exerciseId: cur.def.id, stepId: cur.step.id });
      follow(s, cur.def, cur.step.next!, now, events);
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
      endExercise(s, now, true, events);
      return null;
    case "end-session":
      if (s.turn) endExercise(s, now, true, events);
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
      enterStep(s, cur.def, index, previous.speaker, previous.cycle, now, events, from);
      return null;
    }
    case "hand-floor": {
      const turn = s.turn;
      if (!turn) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
      turn.speaker = otherPartner(turn.speaker);
      // Going back to this step later should find the floor where it now is.
      const last = turn.history[turn.history.length - 1];
      if (last) last.speaker = turn.speaker;
      events.push({ type: "turn-changed", speaker: turn.speaker, stepId: turn.stepId, exerciseId: turn.exerciseId });
      return null;
    }
    case "adjust-timer": {
      const turn = s.turn;
      if (!turn) return refuse(ErrorCode.NO_ACTIVE_EXERCISE, "No exercise is running.");
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
    case "presence":
      s.presence[command.seat] = command.online;
      return null;
  }
}

/** The form of an accepted command kept in the log: an uploaded definition as validated, nothing else changed. */
export function loggedForm(command: AnyCommand): AnyCommand {
  if (command.type !== "add-exercise") return command;
  const result = validateExercise(command.definition);
  return result.ok ? { type: "add-exercise", definition: result.definition } : command;
}
