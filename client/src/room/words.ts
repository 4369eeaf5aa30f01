/** Small helpers that turn a seat's view into the words the room shows. */
import type { AllowedCommand, CommandType, Seat, SessionView } from "../../../shared/protocol.ts";

/** A seat's display name: the first name given at creation, else a neutral label. */
export function seatName(view: Pick<SessionView, "names">, seat: Seat): string {
  if (seat === "therapist") return "Therapist";
  return view.names[seat] ?? (seat === "a" ? "Partner A" : "Partner B");
}

/** Whether this seat may send `type` now, and if not, the engine's reason. */
export function permission(view: SessionView, type: CommandType): AllowedCommand {
  return view.allowed.find((a) => a.type === type) ?? { type, allowed: false, reason: "Not available right now." };
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
  return (
    view.agenda.find((e) => e.id === id)?.title ??
    view.completed.find((c) => c.exerciseId === id)?.title ??
    view.exercise?.title ??
    "this exercise"
  );
}
