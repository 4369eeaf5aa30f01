/**
 * The therapist console: what the therapist's link opens. It works from the therapist's view alone; every control
 * is enabled or disabled (with the reason) from view.allowed, so the console never second-guesses the engine.
 */
import "./console.css";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import { ActionError, CommandButton, type RoomScreenProps, type Send, useAction } from "../room/Controls.tsx";
import { ConfirmButton } from "../room/Lobby.tsx";
import { CompletedList } from "../room/Summary.tsx";
import { Transcript } from "../room/Transcript.tsx";
import { clockTime, exerciseTitle, seatName } from "../room/words.ts";
import { AirtimePanel } from "./Airtime.tsx";
import { Composer, type ComposerMode, NotesList, PrivateChannelPanel } from "./Coaching.tsx";
import { CustomExercisePanel } from "./CustomExercise.tsx";
import { ExercisePanel, PacingPanel, StartPanel } from "./Pacing.tsx";
import { PartnersPanel } from "./Partners.tsx";
import { SafetyPanel } from "../safety/SafetyConsole.tsx";
import { RecordPanel } from "./Record.tsx";
import { ShortcutHelp, useConsoleShortcuts } from "./Shortcuts.tsx";
import { forTherapist } from "./words.ts";

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
        <Transcript view={view} exerciseId={null} title="Conversation" />
      </div>
    );
  }
  return (
    <section class="console-panel transcript-panel" aria-labelledby="transcript-heading">
      <h3 id="transcript-heading">Conversation</h3>
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
    return `${seatName(view, view.timeOut.by)} asked for a break until ${clockTime(view.timeOut.returnAt)}.`;
  if (view.steppedOut) return `${seatName(view, view.steppedOut)} is stepped out.`;
  if (view.paused) return "The exercise is paused.";
  if (view.exercise) return `${view.exercise.title} is running.`;
  return "No exercise is running.";
}

type Tab = "live" | "exercises" | "record";
const TABS: { id: Tab; label: string }[] = [
  { id: "live", label: "Live session" },
  { id: "exercises", label: "Exercises" },
  { id: "record", label: "Session record" },
];

/** The console's tabs: the live session, authoring exercises, and the record to take away. */
function ConsoleTabs({ tab, onTab }: { tab: Tab; onTab: (tab: Tab) => void }) {
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const i = TABS.findIndex((t) => t.id === tab);
    const next = TABS[(i + (e.key === "ArrowRight" ? 1 : TABS.length - 1)) % TABS.length]!;
    onTab(next.id);
    document.getElementById(`console-tab-${next.id}`)?.focus();
  };
  return (
    <div class="console-tabs" role="tablist" aria-label="Console" onKeyDown={onKeyDown}>
      {TABS.map((t) => (
        <button
          key={t.id}
          type="button"
          role="tab"
          id={`console-tab-${t.id}`}
          aria-selected={tab === t.id}
          aria-controls={`console-panel-${t.id}`}
          tabIndex={tab === t.id ? 0 : -1}
          class={`console-tab${tab === t.id ? " selected" : ""}`}
          onClick={() => onTab(t.id)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

/** The conversation of the whole session, newest at the bottom, in a pane that scrolls on its own and follows it. */
function ConversationPanel({ view }: { view: SessionView }) {
  const pane = useRef<HTMLElement>(null);
  const count = view.transcript.length + view.checkIns.length;
  useEffect(() => {
    const el = pane.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count]);
  return (
    <div class="console-panel conversation-panel" data-testid="conversation">
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a pane that scrolls on its own must be reachable by keyboard. */}
      <section class="conversation-scroll" ref={pane} tabIndex={0} aria-label="The conversation, newest last">
        <TranscriptPanel view={view} />
        {view.checkIns.length > 0 && <CheckInsPanel view={view} />}
      </section>
    </div>
  );
}

/** The therapist's whole console. */
export function TherapistConsole({
  view: raw,
  send,
  announce,
  offline = false,
  token,
}: RoomScreenProps & { token?: string | undefined }) {
  // Every disabled control's reason is worded for the therapist (whose break, who is out), not for a partner.
  const view = forTherapist(raw);
  const line = sessionLine(view);
  const lastLine = useRef(line);
  const [tab, setTab] = useState<Tab>("live");
  const [mode, setMode] = useState<ComposerMode>("nudge");
  const [drafts, setDrafts] = useState<Record<ComposerMode, string>>({ nudge: "", both: "", note: "" });
  const composerInput = useRef<HTMLTextAreaElement>(null);
  const [focusComposer, setFocusComposer] = useState(0);
  useEffect(() => {
    // Arrivals in the waiting room and other turns of the session are announced, not just drawn.
    if (lastLine.current !== line) announce(line);
    lastLine.current = line;
  }, [line]);
  useEffect(() => {
    if (focusComposer > 0) composerInput.current?.focus();
  }, [focusComposer]);
  const compose = (m: ComposerMode) => {
    setTab("live");
    setMode(m);
    setFocusComposer((n) => n + 1);
  };
  useConsoleShortcuts({ active: tab === "live" && !offline, view, send, announce, compose });
  const ended = view.phase === "ended";
  return (
    <div class="console" data-seat="therapist" data-version={view.version}>
      <header class="console-head">
        <h2 class="console-title">Therapist console</h2>
        <p class="session-line" data-testid="session-line">
          {line}
        </p>
        <ConsoleTabs tab={tab} onTab={setTab} />
        {!ended && (
          <section class="end" aria-labelledby="end-heading">
            <h3 id="end-heading" class="sr-only">
              End the session
            </h3>
            <ConfirmButton
              view={view}
              type="end-session"
              label="End session"
              question="End the session for everyone? Both partners see a short summary; it cannot be resumed."
              send={send}
            />
          </section>
        )}
      </header>
      <fieldset class="plain console-controls" disabled={offline}>
        <legend class="sr-only">Session controls</legend>
        {tab === "live" && (
          <div class="console-live" id="console-panel-live" role="tabpanel" aria-labelledby="console-tab-live">
            <div class="console-col couple-col">
              {/* issue 13: a partner's private request comes first */}
              <SafetyPanel view={view} send={send} announce={announce} />
              <PartnersPanel view={view} send={send} token={token} />
              <BreakNotice view={view} send={send} />
              <AirtimePanel
                view={view}
                onGentleNote={(text) => {
                  setDrafts((d) => ({ ...d, both: text }));
                  compose("both");
                }}
              />
            </div>
            <div class="console-col room-col">
              {/* While a partner is out, the private conversation is what the therapist is doing: keep it on top. */}
              <PrivateChannelPanel view={view} send={send} />
              {ended ? (
                <section class="console-panel" aria-labelledby="ended-heading">
                  <h3 id="ended-heading">Session ended</h3>
                  <CompletedList view={view} earlyNote=" (ended early)" none="No exercise was completed." />
                  <button type="button" class="btn primary" onClick={() => setTab("record")}>
                    Take the session record
                  </button>
                </section>
              ) : view.exercise ? (
                <ExercisePanel view={view} send={send} />
              ) : (
                <StartPanel view={view} send={send} />
              )}
              <ConversationPanel view={view} />
            </div>
            <div class="console-col side-col">
              {!ended && <PacingPanel view={view} send={send} />}
              {!ended && (
                <Composer
                  view={view}
                  send={send}
                  mode={mode}
                  onMode={setMode}
                  drafts={drafts}
                  onDraft={(m, text) => setDrafts((d) => ({ ...d, [m]: text }))}
                  inputRef={composerInput}
                />
              )}
              <NotesList view={view} />
              <ShortcutHelp view={view} />
            </div>
          </div>
        )}
        {tab === "exercises" && (
          <div id="console-panel-exercises" role="tabpanel" aria-labelledby="console-tab-exercises">
            {ended ? (
              <p class="hint">The session has ended; exercises can no longer be added to it.</p>
            ) : (
              <CustomExercisePanel view={view} send={send} />
            )}
          </div>
        )}
        {tab === "record" && (
          <div id="console-panel-record" role="tabpanel" aria-labelledby="console-tab-record">
            <RecordPanel view={view} />
          </div>
        )}
      </fieldset>
    </div>
  );
}
