/** Small helpers that turn a seat's view into the words the room shows. */
import type { AllowedCommand, CommandType, Partner, Seat, SessionView } from "../../../shared/protocol.ts";

/** A seat's display name: the first name given at creation, else a neutral label. */
export function seatName(view: Pick<SessionView, "names">, seat: Seat): string {
  if (seat === "therapist") return "Therapist";
  return view.names[seat] ?? (seat === "a" ? "Partner A" : "Partner B");
}

/** Whether this seat may send `type` now, and if not, the engine's reason. */
export function permission(view: SessionView, type: CommandType): AllowedCommand {
  return view.allowed.find((a) => a.type === type) ?? { type, allowed: false, reason: "Not available right now." };
}

/** The headline that says at a glance who speaks and who listens. */
export function turnHeadline(view: SessionView): string | null {
  const ex = view.exercise;
  if (!ex) return null;
  const step = ex.step;
  if (step.actor === "both")
    return step.kind === "private-answer" ? "You each answer privately" : "You both take a turn";
  if (step.role === "speaker") return "You're speaking";
  if (step.role === "listener") return "Listen, then mirror back";
  return `${seatName(view, ex.speaker)} is speaking, ${seatName(view, ex.listener)} is listening`;
}

/** The line under the headline: whose move it is right now. */
export function moveLine(view: SessionView): string | null {
  const ex = view.exercise;
  if (!ex) return null;
  const step = ex.step;
  if (step.kind === "private-answer" && view.you.seat !== "therapist") {
    const mine = step.answered?.[view.you.seat as Partner];
    return mine ? "Your answer is in. It stays private until you've both answered." : `Your move: ${step.title}`;
  }
  if (step.yourMove) return `Your move: ${step.title}`;
  const actor = actingSeat(view);
  return actor ? `${seatName(view, actor)}'s move: ${step.title}` : step.title;
}

/** The seat expected to act in the current step (null for "both"). */
export function actingSeat(view: SessionView): Seat | null {
  const ex = view.exercise;
  if (!ex) return null;
  switch (ex.step.actor) {
    case "speaker":
      return ex.speaker;
    case "listener":
      return ex.listener;
    case "therapist":
      return "therapist";
    default:
      return null;
  }
}

/** Formats a clock time in the reader's locale, e.g. "14:35". */
export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Formats a duration as m:ss. */
export function minutesSeconds(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${s.toString().padStart(2, "0")}`;
}

/** The title of an exercise id, from the session's agenda when it is there. */
export function exerciseTitle(view: SessionView, id: string): string {
  return view.agenda.find((e) => e.id === id)?.title ?? id.replace(/-/g, " ");
}
