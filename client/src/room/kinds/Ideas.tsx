/**
 * A private answer that asks for a short list of ideas (e.g. for time together): written alone, shown to no one
 * (not the partner, not the therapist) until both have answered; a later pick step offers them all.
 */
import "./kinds.css";
import { useId, useState } from "preact/hooks";
import type { CheckInAnswer, RevealedCheckIn, SessionView, StepView } from "../../../../shared/protocol.ts";
import { ActionError, Reason, type Send, useAction } from "../Controls.tsx";
import { permission, seatName } from "../words.ts";
import { otherOf } from "./words.ts";

const IDEA_MAX = 80;

/** True for a revealed check-in of feelings, false for a list of ideas (which a pick step shows instead). */
export function isCheckIn(checkIn: RevealedCheckIn): boolean {
  return !Object.values(checkIn.answers).some((answer) => answer.ideas !== undefined);
}

/** A revealed list of ideas, for the check-in reveal. */
export function IdeaList({ ideas }: { ideas: string[] | undefined }) {
  if (!ideas || ideas.length === 0) return null;
  return (
    <ul class="idea-answers">
      {ideas.map((idea, i) => (
        <li key={`${i}-${idea}`}>{idea}</li>
      ))}
    </ul>
  );
}

export function IdeasControl({ view, step, send }: { view: SessionView; step: StepView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const fields = step.answerFields ?? {};
  const max = fields.ideas?.max ?? 1;
  const [ideas, setIdeas] = useState<string[]>(() => Array.from({ length: max }, () => ""));
  const [rating, setRating] = useState<number | null>(null);
  const [feeling, setFeeling] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const baseId = useId();
  const reasonId = useId();
  const p = permission(view, "answer");
  const seat = view.you.seat;
  if (seat === "therapist") {
    const done = (["a", "b"] as const).filter((s) => step.answered?.[s]).map((s) => seatName(view, s));
    return (
      <p class="hint" role="status">
        {done.length === 0
          ? "Nobody has shared their ideas yet."
          : `${done.join(" and ")} ${done.length === 1 ? "has" : "have"} shared.`}{" "}
        You'll see the ideas once both have.
      </p>
    );
  }
  const other = otherOf(seat);
  if (step.yourAnswer) {
    return (
      <div class="controls answered">
        <p>Your ideas:</p>
        <IdeaList ideas={step.yourAnswer.ideas} />
        <p class="hint" role="status">
          {step.answered?.[other]
            ? "You've both shared."
            : `Waiting for ${seatName(view, other)}. You'll see each other's ideas together.`}
        </p>
      </div>
    );
  }
  const written = ideas.map((s) => s.trim()).filter((s) => s.length > 0);
  const ready = written.length > 0 && (!fields.rating || rating !== null) && (!fields.feelings || feeling !== null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    const answer: CheckInAnswer = { ideas: written };
    if (fields.rating && rating !== null) answer.rating = rating;
    if (fields.feelings && feeling) answer.feeling = feeling;
    if (fields.note && note.trim()) answer.note = note.trim();
    await run({ type: "answer", answer });
  };
  const ratings: number[] = [];
  if (fields.rating) for (let r = fields.rating.min; r <= fields.rating.max; r++) ratings.push(r);
  return (
    <form class="controls ideas-form" onSubmit={submit}>
      <fieldset class="idea-inputs">
        <legend>{max === 1 ? "Your idea" : `Your ideas (up to ${max})`}</legend>
        {ideas.map((value, i) => (
          <div key={i} class="idea-input">
            <label for={`${baseId}-${i}`}>
              Idea {i + 1}
              {i > 0 ? <span class="optional"> (optional)</span> : null}
            </label>
            <input
              id={`${baseId}-${i}`}
              type="text"
              maxLength={IDEA_MAX}
              value={value}
              onInput={(e) => {
                const next = [...ideas];
                next[i] = (e.currentTarget as HTMLInputElement).value;
                setIdeas(next);
              }}
            />
          </div>
        ))}
      </fieldset>
      {fields.rating && (
        <fieldset class="choice-group rating">
          <legend>
            From {fields.rating.min} to {fields.rating.max}
          </legend>
          <div class="chips">
            {ratings.map((r) => (
              <label key={r} class={`chip${rating === r ? " selected" : ""}`}>
                <input type="radio" name={`${baseId}-rating`} checked={rating === r} onChange={() => setRating(r)} />
                <span>{r}</span>
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {fields.feelings && (
        <fieldset class="choice-group">
          <legend>Which feeling fits best?</legend>
          <div class="chips">
            {fields.feelings.map((f) => (
              <label key={f} class={`chip${feeling === f ? " selected" : ""}`}>
                <input type="radio" name={`${baseId}-feeling`} checked={feeling === f} onChange={() => setFeeling(f)} />
                <span>{f}</span>
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {fields.note && (
        <>
          <label for={`${baseId}-note`}>A sentence, if you like (optional)</label>
          <textarea
            id={`${baseId}-note`}
            rows={2}
            value={note}
            onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </>
      )}
      <p class="hint">
        {step.answered?.[other]
          ? `${seatName(view, other)} has shared theirs.`
          : "Only you can see these until you've both shared."}
      </p>
      <button
        type="submit"
        class="btn primary"
        disabled={!p.allowed || busy || !ready}
        aria-describedby={p.allowed ? undefined : reasonId}
      >
        Share privately
      </button>
      {!p.allowed && <Reason id={reasonId} text={p.reason} />}
      <ActionError text={error} />
    </form>
  );
}
