/**
 * The therapist console: what the therapist's link opens. It works from the therapist's view alone; every control
 * is enabled or disabled (with the reason) from view.allowed, so the console never second-guesses the engine.
 */
import "./console.css";
import { useEffect, useRef } from "preact/hooks";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import { ActionError, CommandButton, type RoomScreenProps, type Send, useAction } from "../room/Controls.tsx";
import { ConfirmButton } from "../room/Lobby.tsx";
import { CompletedList } from "../room/Summary.tsx";
import { Transcript } from "../room/Transcript.tsx";
import { clockTime, exerciseTitle, seatName } from "../room/words.ts";
import { CoachingPanel, NotesPanel, PrivateChannelPanel } from "./Coaching.tsx";
import { CustomExercisePanel } from "./CustomExercise.tsx";
import { ExercisePanel, StartPanel } from "./Pacing.tsx";
import { PartnersPanel } from "./Partners.tsx";
import { SafetyPanel } from "../safety/SafetyConsole.tsx";

/** Each partner's check-in answers, as they were revealed (both at once). */
export function CheckInsPanel({ view }: { view: SessionView }) {
  return (
    <section class="console-panel check-ins" aria-labelledby="checkins-heading">
      <h3 id="checkins-heading">Check-ins</h3>
      {view.checkIns.length === 0 ? (
        <p class="hint">Answers appear here once both partners have answered.</p>
      ) : (
        <ol class="checkin-list">
          {view.checkIns.map((c) => (
            <li key={c.v}>
              <p class="when">
                {exerciseTitle(view, c.exerciseId)} · {clockTime(c.at)}
              </p>
              <ul>
                {(["a", "b"] as Partner[]).map((p) => {
                  const answer = c.answers[p];
                  return (
                    <li key={p}>
                      <strong>{seatName(view, p)}</strong>
                      {answer.rating !== undefined ? ` · ${answer.rating}` : ""}
                      {answer.feeling ? ` · ${answer.feeling}` : ""}
                      {answer.note ? ` — “${answer.note}”` : ""}
                    </li>
                  );
                })}
              </ul>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function TranscriptPanel({ view }: { view: SessionView }) {
  if (view.transcript.length > 0) {
    return (
      <div class="console-panel transcript-panel">
        <Transcript view={view} exerciseId={null} title="Transcript" />
      </div>
    );
  }
  return (
    <section class="console-panel transcript-panel" aria-labelledby="transcript-heading">
      <h3 id="transcript-heading">Transcript</h3>
      <p class="hint">
        {view.channel === "typed"
          ? "What the partners type, and your messages to both, appear here."
          : "This session is spoken: steps done aloud and your messages to both appear here."}
      </p>
    </section>
  );
}

/** A break one partner called: when it ends, and a way to end it early once both are ready. */
function BreakNotice({ view, send }: { view: SessionView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const t = view.timeOut;
  if (!t || view.phase === "ended") return null;
  return (
    <section class="console-panel break" aria-labelledby="break-heading">
      <h3 id="break-heading">Time-out</h3>
      <p>
        {seatName(view, t.by)} asked for a break. Back together at <strong>{clockTime(t.returnAt)}</strong>; the
        exercise waits where it was.
      </p>
      <CommandButton
        view={view}
        type="end-time-out"
        label="End the break"
        variant="secondary"
        busy={busy}
        onClick={() => run({ type: "end-time-out" })}
      />
      <ActionError text={error} />
    </section>
  );
}

/** The calm headline of where the session is. */
function sessionLine(view: SessionView): string {
  if (view.phase === "ended") return "The session has ended.";
  const waiting = (["a", "b"] as Partner[]).filter((p) => !view.admitted[p] && view.presence[p]);
  if (waiting.length > 0) return `${waiting.map((p) => seatName(view, p)).join(" and ")} waiting to be admitted.`;
  if (view.timeOut)
    return `${seatName(view, view.timeOut.by)} called a time-out until ${clockTime(view.timeOut.returnAt)}.`;
  if (view.steppedOut) return `${seatName(view, view.steppedOut)} is stepped out.`;
  if (view.paused) return "The exercise is paused.";
  if (view.exercise) return `${view.exercise.title} is running.`;
  return "No exercise is running.";
}

/** The therapist's whole console. */
export function TherapistConsole({ view, send, announce, offline = false }: RoomScreenProps) {
  const line = sessionLine(view);
  const lastLine = useRef(line);
  useEffect(() => {
    // Arrivals in the waiting room and other turns of the session are announced, not just drawn.
    if (lastLine.current !== line) announce(line);
    lastLine.current = line;
  }, [line]);
  const ended = view.phase === "ended";
  return (
    <div class="console" data-seat="therapist" data-version={view.version}>
      <header class="console-head">
        <h2 class="console-title">Therapist console</h2>
        <p class="session-line" data-testid="session-line">
          {line}
        </p>
      </header>
      <fieldset class="plain console-controls" disabled={offline}>
        <legend class="sr-only">Session controls</legend>
        <div class="console-grid">
          <div class="console-main">
            {/* issue 13: a partner's private request comes first */}
            <SafetyPanel view={view} send={send} announce={announce} />
            <PartnersPanel view={view} send={send} />
            {/* While a partner is out, the private conversation is what the therapist is doing: keep it on top. */}
            <PrivateChannelPanel view={view} send={send} />
            <BreakNotice view={view} send={send} />
            {ended ? (
              <section class="console-panel" aria-labelledby="ended-heading">
                <h3 id="ended-heading">Session ended</h3>
                <CompletedList view={view} earlyNote=" (ended early)" none="No exercise was completed." />
              </section>
            ) : view.exercise ? (
              <ExercisePanel view={view} send={send} />
            ) : (
              <StartPanel view={view} send={send} />
            )}
            <CheckInsPanel view={view} />
            <TranscriptPanel view={view} />
          </div>
          <div class="console-side">
            {!ended && <CoachingPanel view={view} send={send} />}
            <NotesPanel view={view} send={send} />
            {!ended && <CustomExercisePanel view={view} send={send} />}
            {!ended && (
              <section class="console-panel end" aria-labelledby="end-heading">
                <h3 id="end-heading">End the session</h3>
                <p class="hint">Both partners see a short summary; the session cannot be resumed.</p>
                <ConfirmButton
                  view={view}
                  type="end-session"
                  label="End session"
                  question="End the session for everyone?"
                  send={send}
                />
              </section>
            )}
          </div>
        </div>
      </fieldset>
    </div>
  );
}
