/** Who is here: one chip per seat of the session, with an online dot and words (not colour alone). */
import type { Seat, SessionView } from "../../../shared/protocol.ts";
import { seatName } from "./words.ts";

/** The presence row at the top of the room. */
export function Presence({ view }: { view: SessionView }) {
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
            {you ? " (you)" : ""} · {here ? "here" : "not here yet"}
          </li>
        );
      })}
    </ul>
  );
}
