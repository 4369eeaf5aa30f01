/**
 * The words of the turn, from one seat's view alone: who acts and what to do (one line), where the exercise is
 * (never moving backwards on a loop), the calm waiting line of the partner who is not acting, and the partner's
 * words a step answers, as the exercise data declares them (a step's `answers`).
 */
import type { CompletedView, Partner, SessionView, TranscriptEntry } from "../../../shared/protocol.ts";
import { actingSeat, seatName } from "./words.ts";

type Exercise = NonNullable<SessionView["exercise"]>;

/** The other partner. */
function other(p: Partner): Partner {
  return p === "a" ? "b" : "a";
}

/** This seat as a partner, or null for the therapist. */
function partnerSeat(view: SessionView): Partner | null {
  return view.you.seat === "therapist" ? null : view.you.seat;
}

/** The words a step answers: whose they are and the entries that hold them (typed text, or said aloud). */
export interface AnsweredWords {
  by: Partner;
  entries: TranscriptEntry[];
  /** True when none of the entries holds text (spoken channel): then a one-line reminder stands in for a quote. */
  aloud: boolean;
}

/**
 * The partner's words the current step responds to: entries of the steps it answers, written in this round by the
 * partner who is not acting now; with gather "latest" only those since this step last answered in the round.
 */
export function answeredWords(view: SessionView): AnsweredWords | null {
  const ex = view.exercise;
  const answers = ex?.step.answers;
  if (!ex || !answers) return null;
  const acting = actingSeat(view);
  if (acting !== "a" && acting !== "b") return null;
  const by = other(acting);
  const round = view.transcript.filter((e) => e.exerciseId === ex.id && e.v > ex.roundFrom);
  let since = ex.roundFrom;
  if (answers.gather === "latest") {
    const last = round.filter((e) => e.stepId === ex.step.id).at(-1);
    if (last) since = last.v;
  }
  const entries = round.filter(
    (e) =>
      e.v > since &&
      e.seat === by &&
      e.stepId !== undefined &&
      answers.steps.includes(e.stepId) &&
      (e.kind === "say" || e.kind === "post"),
  );
  if (entries.length === 0) return null;
  return { by, entries, aloud: entries.every((e) => e.text === undefined) };
}

/** "Maya said", or "You said" for the seat whose words they are. */
export function saidBy(view: SessionView, by: Partner): string {
  return by === view.you.seat ? "You said" : `${seatName(view, by)} said`;
}

/** The one-line reminder of spoken words being answered. */
export function aloudReminder(view: SessionView, words: AnsweredWords): string {
  const who = words.by === view.you.seat ? "you" : seatName(view, words.by);
  return view.exercise?.step.yourMove
    ? `You are answering what ${who} just said aloud.`
    : `${who === "you" ? "Your" : `${who}'s`} words, just said aloud, are being answered.`;
}

/** A prompt with "your partner" replaced by the partner's name, so each line speaks to this couple. */
export function personal(view: SessionView, text: string): string {
  const me = partnerSeat(view);
  if (!me) return text;
  const name = seatName(view, other(me));
  return text.replace(/\b([Yy])our partner\b/g, name);
}

/** Whether this seat has given its part of a step both partners act in. */
function gaveOwnPart(view: SessionView, ex: Exercise): boolean {
  const me = partnerSeat(view);
  if (!me) return false;
  const step = ex.step;
  if (step.kind === "private-answer") return Boolean(step.yourAnswer || step.answered?.[me]);
  if (step.kind === "guess") return !step.guess?.revealed && step.guess?.submitted[me] === true;
  return !step.yourMove;
}

/** The one clear line of who acts and what to do: "Your turn: Mirror", "Maya's turn: Mirror", "Maya's time to talk". */
export function whoActs(view: SessionView): string | null {
  const ex = view.exercise;
  if (!ex) return null;
  const step = ex.step;
  if (step.actor === "therapist") {
    return view.you.seat === "therapist" ? `Your turn: ${step.title}` : `Your therapist: ${step.title}`;
  }
  if (step.actor === "both") {
    if (view.you.seat === "therapist") return `Both partners: ${step.title}`;
    if (gaveOwnPart(view, ex)) return `Waiting for ${seatName(view, other(view.you.seat))}: ${step.title}`;
    return `Both of you: ${step.title}`;
  }
  const actor = actingSeat(view);
  if (actor === view.you.seat) return ownTitle(step.title) ?? `Your turn: ${step.title}`;
  const name = actor ? seatName(view, actor) : "Your partner";
  const own = ownTitle(step.title);
  return own ? `${name}'s ${own.slice("Your ".length)}` : `${name}'s turn: ${step.title}`;
}

/**
 * A step title already written to the one who acts ("Your time to talk"): it says whose turn it is by itself, so
 * the line is the title alone ("Your time to talk"), or the other's name in its place ("Maya's time to talk").
 */
function ownTitle(title: string): string | null {
  return title.startsWith("Your ") ? title : null;
}

/**
 * Where the exercise is, in words a person understands: its title, the round when there is more than one, and who
 * shares in this round. No step counter: loops would make it jump backwards.
 */
export function progressWords(view: SessionView, turns = true): string {
  const ex = view.exercise;
  if (!ex) return "";
  const parts = [ex.title];
  if (ex.cycles !== undefined && ex.cycles > 1)
    parts.push(`round ${Math.min(ex.cycle + 1, ex.cycles)} of ${ex.cycles}`);
  if (turns && ex.step.actor !== "both" && ex.step.actor !== "therapist") {
    parts.push(ex.speaker === view.you.seat ? "you share" : `${seatName(view, ex.speaker)} shares`);
  }
  return parts.join(" · ");
}

/** The step's words for this seat: the prompt, with names. */
export function stepPrompt(view: SessionView): string {
  const step = view.exercise?.step;
  return step ? personal(view, step.prompt) : "";
}

/** Who ended an exercise early, as this seat says it. */
function endedBy(view: SessionView, c: CompletedView): string {
  if (c.by === undefined || c.by === "system") return "The exercise was stopped";
  if (c.by === "therapist") return view.you.seat === "therapist" ? "You ended it" : "Your therapist ended it";
  if (c.by === view.you.seat) return "You stopped it";
  return `${seatName(view, c.by)} stopped it`;
}

/** The heading and the words of an exercise's ending, for this seat. */
export function endingWords(view: SessionView, c: CompletedView): { heading: string; words: string } {
  if (c.outcome === "postponed") {
    return {
      heading: `${c.title}: another time, agreed`,
      words: c.words ?? "You agreed a time to come back to this.",
    };
  }
  if (c.endedEarly) {
    return {
      heading: `${c.title} ended early`,
      words: `${endedBy(view, c)} here, and that's all right. You can come back to it whenever you both feel ready.`,
    };
  }
  return {
    heading:
      c.ending !== undefined && c.endingTitle
        ? `${c.title}: ${c.endingTitle.toLowerCase()}`
        : `You finished ${c.title}`,
    words: c.words ?? "Take a slow breath together.",
  };
}
