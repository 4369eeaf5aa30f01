/** Between exercises: the end-of-exercise moment, the check-in reveal, and what comes next. */
import { useContext, useId, useState } from "preact/hooks";
import type { Partner, RevealedCheckIn, SessionView } from "../../../shared/protocol.ts";
import { ActionError, CommandButton, type HeadedPanelProps, type Send, useAction } from "./Controls.tsx";
import { AgreementList } from "./kinds/Agreements.tsx";
import { IdeaList, isCheckIn } from "./kinds/Ideas.tsx";
import { newSeed } from "./kinds/words.ts";
import { SharedDeviceContext } from "./shared-device.ts";
import { endingWords } from "./turn.ts";
import { permission, seatName } from "./words.ts";
import { GuidedSafetyNote } from "../safety/SafetyNote.tsx";
import { SpaceReminder } from "../space/Reminder.tsx";

/** Both partners' check-in answers, shown together once both have answered. */
export function CheckInReveal({ view, checkIn }: { view: SessionView; checkIn: RevealedCheckIn }) {
  const shared = useContext(SharedDeviceContext);
  return (
    <div class="reveal" data-testid="check-in-reveal">
      <h3>Your check-in, side by side</h3>
      <ul>
        {(["a", "b"] as Partner[]).map((p) => {
          const answer = checkIn.answers[p];
          return (
            <li key={p}>
              <span class="who">{p === view.you.seat && !shared ? "You" : seatName(view, p)}</span>
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

/** Who speaks first: one chip a partner (the therapist's start panel keeps its own choice). */
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

/**
 * Who speaks first, agreed between the two phones: the choice is part of the session, so both see it and either
 * may change it before the start.
 */
export function SharedFirstSpeaker({ view, send }: { view: SessionView; send: Send }) {
  const { error, run } = useAction(send);
  const p = permission(view, "set-first-speaker");
  const first = view.firstSpeaker;
  const name = first === view.you.seat ? "You" : seatName(view, first);
  if (!p.allowed) {
    return (
      <p class="first-speaker" data-testid="first-speaker">
        {name} speak{first === view.you.seat ? "" : "s"} first.
      </p>
    );
  }
  return (
    <div class="first-speaker" data-testid="first-speaker">
      <FirstSpeakerChoice
        view={view}
        value={first}
        onChange={(partner) => {
          if (partner !== first) void run({ type: "set-first-speaker", partner });
        }}
      />
      <p class="hint">Both of you see this choice; either of you can change it before you start.</p>
      <ActionError text={error} />
    </div>
  );
}

/** How the last exercise ended, in its own words, with what came of it. */
export function EndingMoment({ view, headingRef }: { view: SessionView; headingRef: HeadedPanelProps["headingRef"] }) {
  const last = view.completed.at(-1);
  if (!last) return null;
  const lastCheckIn = view.checkIns.filter((c) => c.exerciseId === last.exerciseId && isCheckIn(c)).at(-1);
  const { heading, words } = endingWords(view, last);
  return (
    <div class={`moment ${last.outcome}`} data-testid="exercise-ended" data-outcome={last.outcome}>
      <h2 id="lobby-heading" tabIndex={-1} ref={headingRef}>
        {heading}
      </h2>
      <p>{words}</p>
      {lastCheckIn && <CheckInReveal view={view} checkIn={lastCheckIn} />}
      <AgreementList
        view={view}
        exerciseId={last.exerciseId}
        title={last.outcome === "postponed" ? "The time you agreed" : "What you agreed"}
      />
    </div>
  );
}

/** The lobby: shown when no exercise is running. */
export function Lobby({ view, send, headingRef }: HeadedPanelProps) {
  const { busy, error, run } = useAction(send);
  const last = view.completed.at(-1);
  // After the planned order is through, an exercise stopped early or put off is still open: offer it again.
  const undone = view.agenda.filter(
    (a) => !view.completed.some((c) => c.exerciseId === a.id && c.outcome === "complete"),
  );
  const planned = view.agenda[view.agendaNext];
  const next = planned ?? undone[0];
  const isPartner = view.you.seat !== "therapist";
  const start = permission(view, "start-exercise");
  return (
    <section class="lobby" aria-labelledby="lobby-heading">
      {last ? (
        <EndingMoment view={view} headingRef={headingRef} />
      ) : (
        <>
          <h2 id="lobby-heading" tabIndex={-1} ref={headingRef}>
            {isPartner ? "Welcome. Settle in together." : "The couple's room"}
          </h2>
          {isPartner && <SpaceReminder view={view} />}
        </>
      )}
      {!last && <GuidedSafetyNote view={view} />}
      {next ? (
        <div class="next-up">
          <h3>
            {planned ? "Up next" : "Still open"}: {next.title}
          </h3>
          <p>{next.summary}</p>
          {isPartner && next.turns && <SharedFirstSpeaker view={view} send={send} />}
          {start.allowed ? (
            <CommandButton
              view={view}
              type="start-exercise"
              label={`Start ${next.title}`}
              variant="primary"
              busy={busy}
              onClick={() => run({ type: "start-exercise", exerciseId: next.id, seed: newSeed() })}
            />
          ) : (
            <p class="hint">{start.reason}</p>
          )}
          <ActionError text={error} />
        </div>
      ) : (
        <div class="next-up">
          <h3>{view.agenda.length > 0 ? "That's everything you planned" : "Nothing else is planned"}</h3>
          <p>When you're ready, end the session to see a short summary.</p>
        </div>
      )}
      {permission(view, "end-session").allowed && (
        <ConfirmButton
          view={view}
          type="end-session"
          label="End session"
          question="End the session for both of you?"
          send={send}
        />
      )}
    </section>
  );
}
