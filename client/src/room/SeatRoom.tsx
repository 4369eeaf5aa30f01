/**
 * The room as one seat sees it. Everything here works from that seat's view alone, so a therapist console or the
 * one-device room can reuse it.
 */
import type { RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { SessionView } from "../../../shared/protocol.ts";
import { ActionError, PauseResumeButton, type RoomScreenProps, type Send, useAction } from "./Controls.tsx";
import { ConfirmButton, Lobby } from "./Lobby.tsx";
import { useDismissed } from "./dismissed.ts";
import { Presence } from "./Presence.tsx";
import { useTurnSignal } from "./turn-signal.ts";
import { EraseSession, FreshLinkNotice, RoomMenu } from "./RoomMenu.tsx";
import { StepPanel } from "./StepPanel.tsx";
import { Summary } from "./Summary.tsx";
import { BreakPanel, TimeOutBar } from "./TimeOut.tsx";
import { Transcript } from "./Transcript.tsx";
import { stepPrompt, whoActs } from "./turn.ts";
import { permission, seatName } from "./words.ts";
// --- therapist-led sessions (issue 5): the console and the partner-side screens live in ../console
import {
  FloorSuggestion,
  PartnerWaitingRoom,
  PartnerPrivateChannel,
  SteppedOutScreen,
  TherapistMessages,
} from "../console/PartnerScreens.tsx";
import { TherapistConsole } from "../console/TherapistConsole.tsx";
// --- end issue 5
// issue 13: what a partner tells the therapist alone
import { AskAlone, SafeTimeCheck } from "../safety/PartnerSafety.tsx";

/** A key that changes whenever the turn or the step changes (focus and announcements follow it). */
export function stepKey(view: SessionView): string {
  if (view.phase === "ended") return "ended";
  if (view.timeOut) return `break:${view.timeOut.at}`;
  const ex = view.exercise;
  if (!ex) return `lobby:${view.completed.length}`;
  return `${ex.id}:${ex.cycle}:${ex.stepIndex}:${ex.step.id}:${ex.speaker}`;
}

/** The sentence announced to screen readers when the turn changes. */
export function turnAnnouncement(view: SessionView): string {
  if (view.phase === "ended") return "The session is over. A summary is on screen.";
  if (view.timeOut) return `Time-out. Back together at the agreed time.`;
  const ex = view.exercise;
  if (!ex) {
    const last = view.completed.at(-1);
    return last ? "The exercise is finished." : "Waiting to start.";
  }
  return [whoActs(view), stepPrompt(view)]
    .filter((part): part is string => Boolean(part))
    .map((part) => (/[.!?]$/.test(part) ? part : `${part}.`))
    .join(" ");
}

function Nudges({ view }: { view: SessionView }) {
  // Read notes fold away, and stay folded after a reload: only the newest few not yet dismissed stay on screen.
  const [dismissed, dismiss] = useDismissed(view, "nudges");
  const shown = view.nudges.slice(-3).filter((n) => !dismissed.has(n.v));
  if (shown.length === 0 || view.you.seat === "therapist") return null;
  return (
    <section class="nudges" aria-label="From your therapist">
      {shown.map((n) => (
        <div key={n.v} class="nudge">
          <p>
            <span class="who">A quiet note from your therapist:</span> {n.text}
          </p>
          <button type="button" class="btn quiet small" onClick={() => dismiss(n.v)}>
            Got it
          </button>
        </div>
      ))}
    </section>
  );
}

function Pacing({ view, send }: { view: SessionView; send: Send }) {
  const { busy, error, run } = useAction(send);
  if (view.phase !== "exercise") return null;
  // A partner who may not pace (a therapist sets it) sees no buttons they cannot use.
  const pace = view.paused ? "resume" : "pause";
  if (!permission(view, pace).allowed && !permission(view, "end-exercise").allowed) return null;
  return (
    <div class="pacing">
      <PauseResumeButton view={view} busy={busy} run={run} pauseVariant="quiet" showPauseReason={false} />
      <ConfirmButton
        view={view}
        type="end-exercise"
        label="End exercise"
        question="Stop this exercise here?"
        send={send}
      />
      <ActionError text={error} />
    </div>
  );
}

/** Whether this seat is the partner the therapist has stepped out (the session still running). */
export function isSteppedOut(view: SessionView): boolean {
  return view.steppedOut !== null && view.steppedOut === view.you.seat && view.phase !== "ended";
}

/** The sentence announced when a stepped-out partner is brought back into the shared room. */
export function backAnnouncement(view: SessionView): string {
  return `You're back in the room. ${turnAnnouncement(view)}`;
}

/**
 * Watches for this seat coming back from the therapist's step-out; returns whether the "back" notice shows and a
 * way to dismiss it. It follows the view rather than the "brought-back" event, so a missed update or a reconnect
 * that skips the event still gives the moment.
 */
function useBackInRoom(
  view: SessionView,
  announce: (text: string) => void,
  headingRef: RefObject<HTMLHeadingElement | null>,
): [boolean, () => void] {
  const out = isSteppedOut(view);
  const wasOut = useRef(out);
  const [back, setBack] = useState(false);
  const key = stepKey(view);
  const backAtKey = useRef<string | null>(null);
  useEffect(() => {
    if (wasOut.current === out) return;
    wasOut.current = out;
    if (out || view.phase === "ended") {
      setBack(false);
      return;
    }
    backAtKey.current = key;
    setBack(true);
    announce(backAnnouncement(view));
    // As on a turn change, start from the step (nothing could be typed while out, so no sentence is cut off).
    headingRef.current?.focus();
  });
  // The notice is a moment, not a fixture: the next turn or step change retires it.
  const stale = back && backAtKey.current !== key;
  useEffect(() => {
    if (stale) setBack(false);
  }, [stale]);
  return [back && !stale, () => setBack(false)];
}

/** The calm "you're back" notice at the top of the room (announced through the page's live region, not here). */
export function BackInRoomNotice({ view, onDismiss }: { view: SessionView; onDismiss: () => void }) {
  const other = seatName(view, view.you.seat === "a" ? "b" : "a");
  return (
    <section class="back-notice" aria-labelledby="back-notice-heading" data-testid="back-notice">
      <h2 id="back-notice-heading">You're back in the room</h2>
      <p>You and {other} are together again, at the step where you left off. Take a moment to settle back in.</p>
      <button type="button" class="btn quiet small" onClick={onDismiss}>
        Got it
      </button>
    </section>
  );
}

/** One seat's room: presence, banner, step or lobby or break or summary, transcript and the time-out bar. */
export function SeatRoom({ view, send, announce, offline = false, token }: RoomScreenProps & { token?: string }) {
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [back, dismissBack] = useBackInRoom(view, announce, headingRef);
  useTurnSignal(view);
  const key = stepKey(view);
  const lastKey = useRef<string | null>(null);
  useEffect(() => {
    const first = lastKey.current === null;
    if (lastKey.current === key) return;
    lastKey.current = key;
    if (!first) announce(turnAnnouncement(view));
    // Move focus to the new step so keyboard and screen-reader users start from it, unless they are mid-sentence.
    const active = document.activeElement;
    const typing = active instanceof HTMLTextAreaElement && !active.disabled && active.value.length > 0;
    if (!typing) headingRef.current?.focus();
  });
  // --- issue 5: the therapist seat gets its console; a stepped-out partner sees only the waiting space
  if (view.you.seat === "therapist") {
    return <TherapistConsole view={view} send={send} announce={announce} offline={offline} token={token} />;
  }
  if (isSteppedOut(view))
    return (
      <>
        <SteppedOutScreen />
        <AskAlone view={view} send={send} />
      </>
    );
  // --- end issue 5
  if (view.waiting)
    return (
      <>
        <PartnerWaitingRoom token={token} />
        <SafeTimeCheck view={view} send={send} />
      </>
    );
  if (view.phase === "ended") {
    return (
      <>
        <Summary view={view} headingRef={headingRef} send={send} />
        {token && (
          <section class="summary-erase" aria-label="Erase this session">
            <EraseSession view={view} token={token} />
          </section>
        )}
      </>
    );
  }
  const ex = view.exercise;
  return (
    <div class="seat-room" data-seat={view.you.seat} data-version={view.version}>
      {back && <BackInRoomNotice view={view} onDismiss={dismissBack} />}
      <FreshLinkNotice />
      <fieldset class="plain" disabled={offline}>
        <Presence view={view} />
        <TimeOutBar view={view} send={send} />
        <Nudges view={view} />
        {/* issue 5: the therapist's messages to both, and the private channel for the partner who stayed */}
        <TherapistMessages view={view} />
        <PartnerPrivateChannel view={view} send={send} />
        {view.timeOut ? (
          <BreakPanel view={view} send={send} />
        ) : ex ? (
          <>
            {ex.intro && ex.stepIndex === 0 && ex.cycle === 0 && (
              <details class="intro">
                <summary>About {ex.title}</summary>
                <p>{ex.intro}</p>
              </details>
            )}
            <FloorSuggestion view={view} />
            {view.paused && (
              <p class="paused-note" role="status">
                Paused. Take the time you need
                {view.paused.by !== "system"
                  ? `; ${view.paused.by === view.you.seat ? "you" : view.paused.by === "therapist" ? "your therapist" : seatName(view, view.paused.by)} paused`
                  : ""}
                .
              </p>
            )}
            <StepPanel view={view} send={send} headingRef={headingRef} />
            {view.channel === "typed" && <Transcript view={view} exerciseId={ex.id} title="The conversation so far" />}
            <Pacing view={view} send={send} />
          </>
        ) : (
          <Lobby view={view} send={send} headingRef={headingRef} />
        )}
        <AskAlone view={view} send={send} />
      </fieldset>
      <RoomMenu view={view} token={token} />
    </div>
  );
}
