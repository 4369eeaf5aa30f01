/**
 * Console words: the engine words a refusal for whoever sent the command ("You are on a break"), which a partner
 * reads about themself. On the therapist's screen the same refusal is about someone else, so it is reworded here
 * with the partner's name and the time ("Jordan asked for a break until 19:38").
 */
import type { AllowedCommand, SessionView } from "../../../shared/protocol.ts";
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
