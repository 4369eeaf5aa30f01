/**
 * A guess step: the partner the question is about answers, the other guesses, each on their own; then both appear
 * side by side and either partner says how close it was. Nothing of one side shows on the other's screen (or the
 * therapist's) before that: the view does not carry it.
 */
import "./kinds.css";
import { useId, useState } from "preact/hooks";
import type { GuessEntry, Partner, SessionView, StepView } from "../../../../shared/protocol.ts";
import { ActionError, Reason, type Send, useAction } from "../Controls.tsx";
import { permission, seatName } from "../words.ts";
import { otherOf } from "./words.ts";

const TEXT_MAX = 300;

/** What one side holds, as shown in the reveal. */
function sideText(entry: GuessEntry): string | null {
  return entry.text ?? entry.label ?? null;
}

/** Who speaks first when both sides were kept in mind (the spoken channel): the guess, then the answer. */
function aloudLine(view: SessionView, about: Partner): string {
  const me = view.you.seat;
  const guesser = otherOf(about);
  if (me === guesser) return `You're both ready. Say your guess aloud first, then ${seatName(view, about)} answers.`;
  if (me === about) return `You're both ready. ${seatName(view, guesser)} says their guess first, then you answer.`;
  return `Both are ready. ${seatName(view, guesser)} says the guess aloud first, then ${seatName(view, about)} answers.`;
}

function Reveal({ view, step, send }: { view: SessionView; step: StepView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const g = step.guess!;
  const shown = g.revealed!;
  const about = g.about;
  const guesser = otherOf(about);
  const answer = sideText(shown.answer);
  const guess = sideText(shown.guess);
  const mark = permission(view, "mark");
  const isPartner = view.you.seat !== "therapist";
  return (
    <div class="controls guess-reveal" data-testid="guess-reveal">
      {answer === null || guess === null ? (
        <p class="aloud">{aloudLine(view, about)}</p>
      ) : (
        <div class="side-by-side">
          <section class="side answer" aria-labelledby={`${step.id}-answer`}>
            <h3 id={`${step.id}-answer`}>
              {about === view.you.seat ? "Your answer" : `${seatName(view, about)}'s answer`}
            </h3>
            <p>{answer}</p>
          </section>
          <section class="side guess" aria-labelledby={`${step.id}-guess`}>
            <h3 id={`${step.id}-guess`}>
              {guesser === view.you.seat ? "Your guess" : `${seatName(view, guesser)}'s guess`}
            </h3>
            <p>{guess}</p>
          </section>
        </div>
      )}
      {isPartner && mark.allowed ? (
        <fieldset class="options marks">
          <legend>How close was it?</legend>
          {(g.marks ?? []).map((m) => (
            <button
              key={m.id}
              type="button"
              class="btn option"
              disabled={busy}
              onClick={() => run({ type: "mark", mark: m.id })}
            >
              {m.label}
            </button>
          ))}
          <p class="hint">No points: either of you can say, and a near miss is something new to learn.</p>
        </fieldset>
      ) : (
        <p class="hint" role="status">
          {isPartner ? mark.reason : "Either partner says how close it was."}
        </p>
      )}
      <ActionError text={error} />
    </div>
  );
}

function Waiting({ view, step }: { view: SessionView; step: StepView }) {
  const g = step.guess!;
  const me = view.you.seat as Partner;
  const other = otherOf(me);
  const mine = g.yours ? sideText(g.yours) : null;
  return (
    <div class="controls answered guess-waiting">
      <p>
        {me === g.about ? "Your answer" : "Your guess"}
        {mine ? (
          <>
            : <strong class="own">{mine}</strong>
          </>
        ) : (
          " is in your mind, ready."
        )}
      </p>
      <p class="hint" role="status">
        {g.submitted[other]
          ? "You're both in."
          : `Waiting for ${seatName(view, other)}. You'll see both at the same moment.`}
      </p>
    </div>
  );
}

/** The therapist's line while the partners write: who is in, never what. */
function TherapistStatus({ view, step }: { view: SessionView; step: StepView }) {
  const g = step.guess!;
  const line = (p: Partner) =>
    `${seatName(view, p)} ${g.submitted[p] ? "is in" : p === g.about ? "is answering" : "is guessing"}`;
  return (
    <p class="hint" role="status">
      {line(g.about)} · {line(otherOf(g.about))}. You'll see both when they're revealed.
    </p>
  );
}

export function GuessControl({ view, step, send }: { view: SessionView; step: StepView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const [text, setText] = useState("");
  const [choice, setChoice] = useState<string | null>(null);
  const inputId = useId();
  const reasonId = useId();
  const g = step.guess;
  if (!g) return null;
  if (g.revealed) return <Reveal view={view} step={step} send={send} />;
  if (view.you.seat === "therapist") return <TherapistStatus view={view} step={step} />;
  if (g.yours) return <Waiting view={view} step={step} />;
  const me = view.you.seat;
  const answering = me === g.about;
  const aboutName = seatName(view, g.about);
  const other = seatName(view, otherOf(me));
  const p = permission(view, "guess");
  const choices = g.choices;
  const spokenFree = !choices && view.channel === "spoken";
  const ready = choices ? choice !== null : spokenFree || text.trim().length > 0;
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    if (choices) await run({ type: "guess", choice: choice! });
    else if (spokenFree) await run({ type: "guess" });
    else await run({ type: "guess", text: text.trim() });
  };
  const what = answering ? "Your answer, about you" : `Your guess: what will ${aboutName} say?`;
  return (
    <form class="controls guess-form" onSubmit={submit}>
      {choices ? (
        <fieldset class="choice-group">
          <legend>{what}</legend>
          <div class="chips">
            {choices.map((c) => (
              <label key={c.id} class={`chip${choice === c.id ? " selected" : ""}`}>
                <input
                  type="radio"
                  name={`${step.id}-choice`}
                  value={c.id}
                  checked={choice === c.id}
                  onChange={() => setChoice(c.id)}
                />
                <span>{c.label}</span>
              </label>
            ))}
          </div>
        </fieldset>
      ) : spokenFree ? (
        <p class="aloud">
          {answering
            ? "Keep your answer in mind. You'll say it aloud once you're both ready."
            : `Keep your guess in mind. You'll say it aloud, before ${aboutName} answers.`}
        </p>
      ) : (
        <>
          <label for={inputId}>{what}</label>
          <textarea
            id={inputId}
            rows={3}
            maxLength={TEXT_MAX}
            value={text}
            onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </>
      )}
      <p class="hint">
        {answering
          ? `${other} is guessing meanwhile and sees your answer only when you're both ${spokenFree ? "ready" : "locked in"}.`
          : `${aboutName} is answering meanwhile. Nothing is shown until you're both ${spokenFree ? "ready" : "locked in"}.`}
      </p>
      <button
        type="submit"
        class="btn primary"
        disabled={!p.allowed || busy || !ready}
        aria-describedby={p.allowed ? undefined : reasonId}
      >
        {spokenFree ? "I'm ready" : answering ? "Lock in my answer" : "Lock in my guess"}
      </button>
      {!p.allowed && <Reason id={reasonId} text={p.reason} />}
      <ActionError text={error} />
    </form>
  );
}
