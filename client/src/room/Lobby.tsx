/** Between exercises: the end-of-exercise moment, the check-in reveal, and what comes next. */
import { useId, useState } from "preact/hooks";
import type { Partner, RevealedCheckIn, SessionView } from "../../../shared/protocol.ts";
import { ActionError, CommandButton, type HeadedPanelProps, type Send, useAction } from "./Controls.tsx";
import { AgreementList } from "./kinds/Agreements.tsx";
import { IdeaList, isCheckIn } from "./kinds/Ideas.tsx";
import { newSeed } from "./kinds/words.ts";
import { exerciseTitle, seatName } from "./words.ts";
import { SpaceReminder } from "../space/Reminder.tsx";

/** Both partners' check-in answers, shown together once both have answered. */
export function CheckInReveal({ view, checkIn }: { view: SessionView; checkIn: RevealedCheckIn }) {
  return (
    <div class="reveal" data-testid="check-in-reveal">
      <h3>Your check-in, side by side</h3>
      <ul>
        {(["a", "b"] as Partner[]).map((p) => {
          const answer = checkIn.answers[p];
          return (
            <li key={p}>
              <span class="who">{p === view.you.seat ? "You" : seatName(view, p)}</span>
              {answer.rating !== undefined && <span class="rating">rated {answer.rating}</span>}
              <span class="feeling">{answer.feeling ?? ""}</span>
              {answer.note && <span class="note">{answer.note}</span>}
              <IdeaList ideas={answer.ideas} />
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** Confirms before an action that cannot be undone. */
export function ConfirmButton(props: {
  view: SessionView;
  type: "end-session" | "end-exercise";
  label: string;
  question: string;
  send: Send;
}) {
  const [asking, setAsking] = useState(false);
  const { busy, error, run } = useAction(props.send);
  if (!asking) {
    return (
      <CommandButton
        view={props.view}
        type={props.type}
        label={props.label}
        variant="quiet"
        onClick={() => setAsking(true)}
      />
    );
  }
  return (
    <fieldset class="confirm">
      <legend>{props.question}</legend>
      <button type="button" class="btn danger" disabled={busy} onClick={() => run({ type: props.type })}>
        Yes, {props.label.toLowerCase()}
      </button>
      <button type="button" class="btn quiet" onClick={() => setAsking(false)}>
        Not yet
      </button>
      <ActionError text={error} />
    </fieldset>
  );
}

/** Who speaks first: one chip a partner (the guided lobby and the therapist's start panel). */
export function FirstSpeakerChoice({
  view,
  value,
  onChange,
}: {
  view: SessionView;
  value: Partner;
  onChange: (p: Partner) => void;
}) {
  const groupName = useId();
  return (
    <fieldset class="choice-group">
      <legend>Who speaks first?</legend>
      <div class="chips">
        {(["a", "b"] as Partner[]).map((p) => (
          <label key={p} class={`chip${value === p ? " selected" : ""}`}>
            <input type="radio" name={groupName} checked={value === p} onChange={() => onChange(p)} />
            <span>
              {seatName(view, p)}
              {p === view.you.seat ? " (you)" : ""}
            </span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** The lobby: shown when no exercise is running. */
export function Lobby({ view, send, headingRef }: HeadedPanelProps) {
  const { busy, error, run } = useAction(send);
  const [firstSpeaker, setFirstSpeaker] = useState<Partner>("a");
  const last = view.completed.at(-1);
  const lastCheckIn = last
    ? view.checkIns.filter((c) => c.exerciseId === last.exerciseId && isCheckIn(c)).at(-1)
    : undefined;
  const next = view.agenda[view.agendaNext];
  const isPartner = view.you.seat !== "therapist";
  return (
    <section class="lobby" aria-labelledby="lobby-heading">
      {last ? (
        <div class="moment" data-testid="exercise-ended">
          <h2 id="lobby-heading" tabIndex={-1} ref={headingRef}>
            {last.endedEarly
              ? `You paused ${exerciseTitle(view, last.exerciseId)} here`
              : `You finished ${exerciseTitle(view, last.exerciseId)}`}
          </h2>
          <p>
            Take a slow breath together. If you like, tell each other one thing that felt good about how you were heard.
          </p>
          {lastCheckIn && <CheckInReveal view={view} checkIn={lastCheckIn} />}
          <AgreementList view={view} exerciseId={last.exerciseId} title="What you agreed" />
        </div>
      ) : (
        <>
          <h2 id="lobby-heading" tabIndex={-1} ref={headingRef}>
            {isPartner ? "Welcome. Settle in together." : "The couple's room"}
          </h2>
          {isPartner && <SpaceReminder view={view} />}
        </>
      )}
      {next ? (
        <div class="next-up">
          <h3>Up next: {next.title}</h3>
          <p>{next.summary}</p>
          {isPartner && view.mode === "guided" && (
            <FirstSpeakerChoice view={view} value={firstSpeaker} onChange={setFirstSpeaker} />
          )}
          <CommandButton
            view={view}
            type="start-exercise"
            label={`Start ${next.title}`}
            variant="primary"
            busy={busy}
            onClick={() => run({ type: "start-exercise", exerciseId: next.id, firstSpeaker, seed: newSeed() })}
          />
          <ActionError text={error} />
        </div>
      ) : (
        <div class="next-up">
          <h3>That's everything you planned</h3>
          <p>When you're ready, end the session to see a short summary.</p>
        </div>
      )}
      <ConfirmButton
        view={view}
        type="end-session"
        label="End session"
        question="End the session for both of you?"
        send={send}
      />
    </section>
  );
}
