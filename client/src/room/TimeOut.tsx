/** The time-out (break) that either partner may call at any step, and the break screen with its return time. */
import { useId, useState } from "preact/hooks";
import type { SessionView } from "../../../shared/protocol.ts";
import { ActionError, CommandButton, type Send, useAction } from "./Controls.tsx";
import { clockTime, seatName } from "./words.ts";

const MINUTE_CHOICES = [20, 30, 45, 60, 120];

/**
 * The always-visible time-out control (partners only; a break has its own screen). It takes little room until
 * used, then asks how long the break should be, so nobody calls one by a stray tap.
 */
export function TimeOutBar({ view, send }: { view: SessionView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const [open, setOpen] = useState(false);
  const [minutes, setMinutes] = useState(20);
  const selectId = useId();
  if (view.timeOut || view.phase === "ended" || view.you.seat === "therapist") return null;
  if (!open) {
    return (
      <aside class="timeout-bar compact" aria-label="Take a break">
        <span class="hint">Feeling flooded? You can stop at any moment.</span>
        <CommandButton
          view={view}
          type="call-time-out"
          label="Time-out"
          variant="danger"
          onClick={() => setOpen(true)}
        />
      </aside>
    );
  }
  return (
    <aside class="timeout-bar" aria-label="Take a break">
      <label for={selectId}>Agree on a return time: break for</label>
      <select
        id={selectId}
        value={minutes}
        onChange={(e) => setMinutes(Number((e.currentTarget as HTMLSelectElement).value))}
      >
        {MINUTE_CHOICES.map((m) => (
          <option key={m} value={m}>
            {m < 60 ? `${m} minutes` : `${m / 60} hour${m > 60 ? "s" : ""}`}
          </option>
        ))}
      </select>
      <CommandButton
        view={view}
        type="call-time-out"
        label="Start the break"
        variant="danger"
        busy={busy}
        onClick={() => run({ type: "call-time-out", minutes })}
      />
      <button type="button" class="btn quiet" onClick={() => setOpen(false)}>
        Cancel
      </button>
      <ActionError text={error} />
    </aside>
  );
}

/** The break screen: who called it, the agreed return time, and "end break". */
export function BreakPanel({ view, send }: { view: SessionView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const t = view.timeOut;
  if (!t) return null;
  const byYou = t.by === view.you.seat;
  return (
    <section class="break-panel" aria-labelledby="break-heading">
      <h2 id="break-heading" tabIndex={-1}>
        Taking a break
      </h2>
      <p>{byYou ? "You called a time-out." : `${seatName(view, t.by)} called a time-out.`}</p>
      <p class="return-time">
        Back together at <strong>{clockTime(t.returnAt)}</strong>
      </p>
      <p class="hint">
        Do something calming on your own: breathe slowly, take a walk, stretch. Try not to rehearse the argument. You'll
        pick up exactly where you left off.
      </p>
      <CommandButton
        view={view}
        type="end-time-out"
        label="End the break"
        variant="primary"
        busy={busy}
        onClick={() => run({ type: "end-time-out" })}
      />
      <ActionError text={error} />
    </section>
  );
}
