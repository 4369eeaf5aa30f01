/** Small helpers for the guess, pick and agreement steps: names, times and the seed questions are drawn with. */
import type { Partner, Seat, SessionView } from "../../../../shared/protocol.ts";
import { seatName } from "../words.ts";

/** "You" for this seat, else the partner's name. */
export function youOr(view: SessionView, seat: Seat): string {
  return seat === view.you.seat ? "You" : seatName(view, seat);
}

/** The other partner of a partner seat. */
export function otherOf(p: Partner): Partner {
  return p === "a" ? "b" : "a";
}

/** A fresh seed for the order an exercise's questions are drawn in (the engine itself never draws at random). */
export function newSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
}

/** An agreed time as a couple reads it, in their own locale and time zone: "Saturday 3 May, 19:30". */
export function formatWhen(iso: string): string {
  return new Date(iso).toLocaleString([], {
    weekday: "long",
    day: "numeric",
    month: "long",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** A moment as the value of a datetime-local input (local time, to the minute). */
export function localInputValue(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "the next day", "the next 3 days", "the next two weeks": how far ahead a time may be. */
export function windowWords(hours: number): string {
  if (hours === 24) return "the next day";
  if (hours < 48) return `the next ${hours} hours`;
  if (hours % (7 * 24) === 0) {
    const weeks = hours / (7 * 24);
    return weeks === 1 ? "the next week" : weeks === 2 ? "the next two weeks" : `the next ${weeks} weeks`;
  }
  return `the next ${Math.round(hours / 24)} days`;
}
