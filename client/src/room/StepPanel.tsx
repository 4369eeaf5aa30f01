/** The current exercise step for one seat: who speaks, where we are, what to say, and the step's controls. */
import { useEffect, useState } from "preact/hooks";
import type { SessionView } from "../../../shared/protocol.ts";
import { CommandButton, type HeadedPanelProps, StepControls, useAction } from "./Controls.tsx";
import { QuestionCard } from "./kinds/Question.tsx";
import { minutesSeconds, moveLine, permission, turnHeadline } from "./words.ts";

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
  return (
    <p class={`countdown${left <= 0 ? " done" : ""}`}>
      <span class="label">{frozen ? "Timer stopped at" : "Time left"}</span>{" "}
      <span role="timer" aria-label={left <= 0 ? "Time is up" : `${minutesSeconds(left)} left`}>
        {left <= 0 ? "Time's up" : minutesSeconds(left)}
      </span>
    </p>
  );
}

/** The "who is speaking" banner, colour-coded by role. */
export function TurnBanner({ view }: { view: SessionView }) {
  const ex = view.exercise;
  if (!ex) return null;
  const headline = turnHeadline(view);
  const line = moveLine(view);
  const tone = ex.step.actor === "both" ? "both" : ex.step.role;
  return (
    <section class={`turn-banner ${tone}${ex.step.yourMove ? " your-move" : ""}`} aria-label="Whose turn">
      <p class="headline">{headline}</p>
      {line && <p class="move">{line}</p>}
    </section>
  );
}

/** The step bar: how far through the exercise's steps this cycle is. */
export function StepProgress({ ex }: { ex: { stepIndex: number; stepCount: number } }) {
  return (
    <progress max={ex.stepCount} value={ex.stepIndex + 1} aria-label={`Step ${ex.stepIndex + 1} of ${ex.stepCount}`} />
  );
}

/** Step heading, progress, prompt, sentence stems, countdown and controls. */
export function StepPanel({ view, send, headingRef }: HeadedPanelProps) {
  const ex = view.exercise;
  const timeUp = useAction(send);
  if (!ex) return null;
  const step = ex.step;
  const cycles = ex.cycles;
  const deadlinePassed = step.deadline !== undefined && step.deadline <= Date.now();
  // When this seat types its words now, the starters become buttons beside the text box instead of a list.
  const stemsInControls = view.channel === "typed" && step.kind === "say" && permission(view, "say").allowed;
  return (
    <section
      class="step"
      aria-labelledby="step-heading"
      data-step-id={step.id}
      data-step-kind={step.kind}
      data-your-move={String(step.yourMove)}
    >
      <p class="progress-line">
        <span>
          {ex.title} · step {ex.stepIndex + 1} of {ex.stepCount}
          {cycles ? ` · round ${Math.min(ex.cycle + 1, cycles)} of ${cycles}` : ""}
        </span>
        <StepProgress ex={ex} />
      </p>
      <h2 id="step-heading" tabIndex={-1} ref={headingRef}>
        {step.title}
      </h2>
      <p class="prompt">{step.prompt}</p>
      <QuestionCard question={step.question} />
      {step.stems.length > 0 && !stemsInControls && (
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
      {deadlinePassed && (
        <CommandButton
          view={view}
          type="time-up"
          label="Time's up — move on"
          showReason={false}
          busy={timeUp.busy}
          onClick={() => timeUp.run({ type: "time-up" })}
        />
      )}
      <StepControls view={view} send={send} />
    </section>
  );
}
