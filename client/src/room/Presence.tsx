/** Who is here: one chip per seat of the session, with an online dot and words (not colour alone). */
import { useRef } from "preact/hooks";
import type { Seat, SessionView } from "../../../shared/protocol.ts";
import { seatName } from "./words.ts";

/** The seats known to have been in this session: seen online by this page, or in the conversation. */
function useSeenSeats(view: SessionView): Set<Seat> {
  const seen = useRef(new Set<Seat>());
  for (const seat of ["a", "b", "therapist"] as Seat[]) if (view.presence[seat]) seen.current.add(seat);
  for (const entry of view.transcript) seen.current.add(entry.seat);
  return seen.current;
}

/** "here", "left" (was here and went) or "not here yet". */
export function presenceWord(here: boolean, wasHere: boolean): string {
  if (here) return "here";
  return wasHere ? "left" : "not here yet";
}

/** The presence row at the top of the room. */
export function Presence({ view }: { view: SessionView }) {
  const seen = useSeenSeats(view);
  const seats: Seat[] = view.mode === "therapist" ? ["a", "b", "therapist"] : ["a", "b"];
  return (
    <ul class="presence" aria-label="Who is here">
      {seats.map((seat) => {
        const here = view.presence[seat];
        const you = seat === view.you.seat;
        return (
          <li key={seat} class={`presence-chip${here ? " here" : " away"}`}>
            <span class="dot" aria-hidden="true" />
            {seatName(view, seat)}
            {you ? " (you)" : ""} · {presenceWord(here, seen.has(seat))}
          </li>
        );
      })}
    </ul>
  );
}
