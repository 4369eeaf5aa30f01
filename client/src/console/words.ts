/**
 * Console words: the engine words a refusal for whoever sent the command ("You are on a break"), which a partner
 * reads about themself. On the therapist's screen the same refusal is about someone else, so it is reworded here
 * with the partner's name and the time ("Jordan asked for a break until 19:38").
 */
import type { AllowedCommand, Partner, SessionView } from "../../../shared/protocol.ts";
import { clockTime, seatName } from "../room/words.ts";

/** A refusal's reason as the therapist should read it. */
export function therapistReason(view: SessionView, entry: AllowedCommand): string | undefined {
  if (entry.allowed) return entry.reason;
  switch (entry.code) {
    case "ON_TIME_OUT": {
      const t = view.timeOut;
      if (!t) return entry.reason;
      return `${seatName(view, t.by)} asked for a break until ${clockTime(t.returnAt)}; the exercise waits.`;
    }
    case "STEPPED_OUT": {
      const out = view.steppedOut;
      if (!out) return entry.reason;
      return `${seatName(view, out)} is stepped out; bring them back first.`;
    }
    case "PAUSED":
      return entry.type === "pause" ? "The exercise is already paused." : "The exercise is paused; resume it first.";
    case "NOT_ADMITTED":
      return "Admit both partners first.";
    default:
      return entry.reason;
  }
}

/** The view with every refusal reworded for the therapist (the rest untouched). */
export function forTherapist(view: SessionView): SessionView {
  let changed = false;
  const allowed = view.allowed.map((entry) => {
    const reason = therapistReason(view, entry);
    if (reason === entry.reason) return entry;
    changed = true;
    return { ...entry, reason };
  });
  return changed ? { ...view, allowed } : view;
}

/**
 * The waiting room's line to a partner: the therapist named as they asked to be ("Dr Rivera will let you in
 * shortly"), or plain "Your therapist" when no name was given.
 */
export function waitingRoomLine(therapistName: string | null | undefined): string {
  const who = therapistName?.trim() ? therapistName.trim() : "Your therapist";
  return `${who} will let you in shortly. You can leave this page open; it will change by itself.`;
}

/**
 * A partner's prompt as the therapist reads it: the words were written to that partner ("Your partner is
 * deciding…"), so the other partner is named instead ("Maya is deciding…") and the therapist is "you".
 */
export function promptForTherapist(view: SessionView, p: Partner, prompt: string): string {
  const other = seatName(view, p === "a" ? "b" : "a");
  return prompt
    .replace(/\b[Yy]our partner's\b/g, `${other}'s`)
    .replace(/\b[Yy]our partner\b/g, other)
    .replace(/\bYour therapist is\b/g, "You are")
    .replace(/\byour therapist is\b/g, "you are")
    .replace(/\b[Yy]our therapist\b/g, (m) => (m[0] === "Y" ? "You" : "you"));
}

/** Whose move a partner's screen is waiting on, from the therapist's seat ("Maya's move", "waiting for Maya"). */
export function sideStatus(view: SessionView, p: Partner): string {
  const step = view.exercise?.step;
  const sides = step?.partners;
  const name = seatName(view, p);
  if (!step || !sides) return "";
  if (sides[p].yourMove) return `${name}'s move`;
  const other: Partner = p === "a" ? "b" : "a";
  if (sides[other].yourMove) return `waiting for ${seatName(view, other)}`;
  if (step.actor === "therapist") return "waiting for you";
  return "waiting";
}

/**
 * The kind suggestion to a guided partner who has held the floor far longer than the other. On their own device it
 * speaks to them ("You've had the floor…"); on one device shared by both, both read it, so it names the partner it
 * is about instead of saying "you" (the rule of the shared device: nothing says "You").
 */
export function floorSuggestionWords(view: SessionView, sharedDevice: boolean): string {
  const me = view.you.seat === "b" ? "b" : "a";
  const other = seatName(view, me === "a" ? "b" : "a");
  if (sharedDevice) {
    const name = seatName(view, me);
    return `${name} has had the floor for a good while today, and it's good that so much has been shared. When ${name} is ready, bringing this turn to a close gives ${other} room to be heard too.`;
  }
  return `You've had the floor for a good while today, and it's good that you've shared so much. When you're ready, bringing your turn to a close gives ${other} room to be heard too.`;
}
