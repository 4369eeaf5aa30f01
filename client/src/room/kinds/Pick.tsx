/**
 * A pick step: both partners' ideas, side by side, one of them picked. Picked together (both must choose the same
 * one, and each sees the other's current pick) or by one partner while the other watches.
 */
import "./kinds.css";
import type { Partner, PickStepView, SessionView, StepView } from "../../../../shared/protocol.ts";
import { ActionError, type Send, useAction } from "../Controls.tsx";
import { actingSeat, permission, seatName } from "../words.ts";
import { otherOf, youOr } from "./words.ts";

function statusLine(view: SessionView, pick: PickStepView): string {
  const label = (id: string | undefined) => pick.options.find((o) => o.id === id)?.label ?? "";
  if (!pick.together) {
    const actor = actingSeat(view);
    if (actor === view.you.seat) return "Pick the one you'd like to do.";
    return `${actor ? seatName(view, actor) : "Your partner"} is choosing one.`;
  }
  const seat = view.you.seat;
  if (seat === "therapist") {
    const line = (p: Partner) =>
      pick.picks?.[p]
        ? `${seatName(view, p)} picked “${label(pick.picks[p])}”`
        : `${seatName(view, p)} hasn't picked yet`;
    return `${line("a")} · ${line("b")}.`;
  }
  const other = otherOf(seat);
  const mine = pick.picks?.[seat];
  const theirs = pick.picks?.[other];
  const name = seatName(view, other);
  if (mine && !theirs) return `You picked “${label(mine)}”. Waiting for ${name}.`;
  if (!mine && theirs)
    return `${name} picked “${label(theirs)}”. Pick it too if you agree, or another one to talk over.`;
  if (mine && theirs) return `You picked different ones. Talk it over, then both pick the same one.`;
  return "Pick the one you'd like to do. You both need to choose the same one.";
}

export function PickControl({ view, step, send }: { view: SessionView; step: StepView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const pick = step.pick;
  if (!pick) return null;
  const p = permission(view, "pick");
  if (pick.options.length === 0) {
    return (
      <p class="hint" role="status">
        {p.reason ?? "There are no ideas to pick from."}
      </p>
    );
  }
  const seat = view.you.seat;
  const canPick = p.allowed && seat !== "therapist";
  const pickedBy = (id: string) => (["a", "b"] as const).filter((s) => pick.picks?.[s] === id);
  return (
    <div class="controls pick">
      <p class="hint" role="status">
        {statusLine(view, pick)}
      </p>
      <ul class="idea-list">
        {pick.options.map((o) => {
          const by = pickedBy(o.id);
          const mine = seat !== "therapist" && by.includes(seat);
          const body = (
            <>
              <span class="idea-text">{o.label}</span>
              <span class="idea-from">{o.by === seat ? "your idea" : `${seatName(view, o.by)}'s idea`}</span>
              {by.length > 0 && (
                <span class="idea-picks">{by.map((s) => `${youOr(view, s)} picked this`).join(" · ")}</span>
              )}
            </>
          );
          return (
            <li key={o.id} class={`idea${by.length === 2 ? " agreed" : by.length === 1 ? " picked" : ""}`}>
              {canPick ? (
                <button
                  type="button"
                  class="idea-button"
                  aria-pressed={mine}
                  disabled={busy}
                  onClick={() => {
                    // Picking your own pick again changes nothing; the engine would refuse it.
                    if (!mine) void run({ type: "pick", option: o.id });
                  }}
                >
                  {body}
                </button>
              ) : (
                <div class="idea-card">{body}</div>
              )}
            </li>
          );
        })}
      </ul>
      <ActionError text={error} />
    </div>
  );
}
