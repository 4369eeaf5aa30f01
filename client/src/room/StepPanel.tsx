/** The current exercise step for one seat: who speaks, where we are, what to say, and the step's controls. */
import { useEffect, useState } from "preact/hooks";
import type { SessionView } from "../../../shared/protocol.ts";
import { CommandButton, type HeadedPanelProps, StepControls, useAction } from "./Controls.tsx";
import { QuestionCard } from "./kinds/Question.tsx";
import { aloudReminder, answeredWords, progressWords, saidBy, stepPrompt, whoActs } from "./turn.ts";
import { minutesSeconds, permission } from "./words.ts";

/** A countdown for timed steps; frozen (and says so) while the session is paused or on a break. */
export function Countdown({
  deadline,
  remainingMs,
}: {
  deadline?: number | undefined;
  remainingMs?: number | undefined;
}) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (deadline === undefined) return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [deadline]);
  if (deadline === undefined && remainingMs === undefined) return null;
  const left = deadline !== undefined ? deadline - now : (remainingMs ?? 0);
  const frozen = deadline === undefined;
  // Screen readers hear the clock only at a few thresholds, never every second.
  const threshold = frozen
    ? ""
    : left <= 0
      ? "Time is up."
      : left <= 10_000
        ? "10 seconds left."
        : left <= 60_000
          ? "One minute left."
          : "";
  return (
    <p class={`countdown${left <= 0 ? " done" : ""}`}>
      <span class="label">{frozen ? "Timer stopped at" : "Time left"}</span>{" "}
      <span role="timer" aria-label={left <= 0 ? "Time is up" : `${minutesSeconds(left)} left`}>
        {left <= 0 ? "Time's up" : minutesSeconds(left)}
      </span>
      <span class="sr-only" aria-live="polite">
        {threshold}
      </span>
    </p>
  );
}

/** The one clear line of who acts and what to do, colour-coded by role: the step's heading. */
export function TurnBanner({ view, headingRef }: { view: SessionView; headingRef?: HeadedPanelProps["headingRef"] }) {
  const ex = view.exercise;
  if (!ex) return null;
  const tone = ex.step.actor === "both" ? "both" : ex.step.role;
  return (
    <div class={`turn-banner ${tone}${ex.step.yourMove ? " your-move" : ""}`}>
      <h2 id="step-heading" class="headline" tabIndex={-1} ref={headingRef}>
        {whoActs(view)}
      </h2>
    </div>
  );
}

/** The step bar: how far through the exercise's steps this cycle is. */
export function StepProgress({ ex }: { ex: { stepIndex: number; stepCount: number } }) {
  return (
    <progress max={ex.stepCount} value={ex.stepIndex + 1} aria-label={`Step ${ex.stepIndex + 1} of ${ex.stepCount}`} />
  );
}

/** The partner's words this step answers, quoted right above the answer (a one-line reminder when spoken). */
export function AnsweredQuote({ view }: { view: SessionView }) {
  const words = answeredWords(view);
  if (!words) return null;
  if (words.aloud) {
    return (
      <p class="answered-aloud" data-testid="answered-words">
        {aloudReminder(view, words)}
      </p>
    );
  }
  const label = saidBy(view, words.by);
  return (
    <figure class="answered" data-testid="answered-words" aria-label={label}>
      <figcaption>{label}:</figcaption>
      {/* Focusable so a long quote can be scrolled by keyboard. */}
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
      <div class="answered-text" tabIndex={0}>
        {words.entries.map((e) => (
          <blockquote key={e.v}>{e.text ?? "(said aloud)"}</blockquote>
        ))}
      </div>
    </figure>
  );
}

/** Progress, the one line of who acts, prompt, drawn question, the words answered, countdown and controls. */
export function StepPanel({ view, send, headingRef }: HeadedPanelProps) {
  const ex = view.exercise;
  const timeUp = useAction(send);
  const extend = useAction(send);
  if (!ex) return null;
  const step = ex.step;
  const deadlinePassed = step.deadline !== undefined && step.deadline <= Date.now();
  // The starters are offered to the one who acts: as buttons beside the text box when typing, else as a list.
  const stemsInControls = view.channel === "typed" && step.kind === "say" && permission(view, "say").allowed;
  const showStems = step.stems.length > 0 && !stemsInControls && (step.yourMove || step.kind === "talk");
  return (
    <section
      class="step"
      aria-labelledby="step-heading"
      data-step-id={step.id}
      data-step-kind={step.kind}
      data-your-move={String(step.yourMove)}
      data-round={ex.cycle}
    >
      <p class="progress-line">{progressWords(view)}</p>
      <TurnBanner view={view} headingRef={headingRef} />
      <p class="prompt">{stepPrompt(view)}</p>
      <QuestionCard question={step.question} />
      {showStems && (
        <div class="stems">
          <p class="stems-label">Sentence starters</p>
          <ul>
            {step.stems.map((stem) => (
              <li key={stem}>{stem}</li>
            ))}
          </ul>
        </div>
      )}
      <Countdown deadline={step.deadline} remainingMs={step.remainingMs} />
      {step.untimed && <p class="hint untimed-note">No timer here — take the time you need.</p>}
      {view.you.seat !== "therapist" && permission(view, "adjust-timer").allowed && (
        <CommandButton
          view={view}
          type="adjust-timer"
          label="I need 2 more minutes"
          variant="quiet"
          busy={extend.busy}
          onClick={() => extend.run({ type: "adjust-timer", seconds: 120 })}
        />
      )}
      {deadlinePassed && permission(view, "time-up").allowed && (
        <CommandButton
          view={view}
          type="time-up"
          label="Time's up — move on"
          showReason={false}
          busy={timeUp.busy}
          onClick={() => timeUp.run({ type: "time-up" })}
        />
      )}
      <AnsweredQuote view={view} />
      <StepControls view={view} send={send} />
    </section>
  );
}
