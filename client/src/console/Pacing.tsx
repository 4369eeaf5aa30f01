/** Pacing from the console: start any exercise with a chosen first speaker, then steer the running one. */
import { useEffect, useId, useState } from "preact/hooks";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import { type ExerciseSummary, fetchExercises } from "../api.ts";
import {
  ActionError,
  CommandButton,
  PauseResumeButton,
  Reason,
  type Send,
  StepControls,
  useAction,
} from "../room/Controls.tsx";
import { ConfirmButton, FirstSpeakerChoice } from "../room/Lobby.tsx";
import { QuestionCard } from "../room/kinds/Question.tsx";
import { newSeed } from "../room/kinds/words.ts";
import { Countdown, StepProgress } from "../room/StepPanel.tsx";
import { clockTime, permission, seatName } from "../room/words.ts";
import { promptForTherapist, sideStatus } from "./words.ts";

const TIMER_STEPS = [
  { seconds: -60, label: "Shorten 1 min", long: "Shorten the timer by 1 minute" },
  { seconds: 60, label: "Extend 1 min", long: "Extend the timer by 1 minute" },
  { seconds: 300, label: "Extend 5 min", long: "Extend the timer by 5 minutes" },
];

/** The catalogue from the server, fetched once; null until it arrives. */
function useCatalogue(): { catalogue: ExerciseSummary[] | null; error: string | null } {
  const [catalogue, setCatalogue] = useState<ExerciseSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    fetchExercises().then(
      (list) => live && setCatalogue(list),
      () => live && setError("The exercise catalogue could not be loaded; the agenda is still available."),
    );
    return () => {
      live = false;
    };
  }, []);
  return { catalogue, error };
}

/** Picks an exercise (agenda first, then the rest of the catalogue) and who speaks first, and starts it. */
export function StartPanel({ view, send }: { view: SessionView; send: Send }) {
  const { catalogue, error: catalogueError } = useCatalogue();
  const next = view.agenda[view.agendaNext];
  const [chosen, setChosen] = useState<string>(next?.id ?? view.agenda[0]?.id ?? "");
  const [firstSpeaker, setFirstSpeaker] = useState<Partner>("a");
  const { busy, error, run } = useAction(send);
  const selectId = useId();
  // When an exercise ends, the agenda moves on: offer its next item unless the therapist picked something else.
  useEffect(() => {
    if (next) setChosen(next.id);
  }, [next?.id, view.completed.length]);
  const waiting = (["a", "b"] as Partner[]).filter((p) => !view.admitted[p]);
  const inAgenda = new Set(view.agenda.map((e) => e.id));
  const others = (catalogue ?? []).filter((e) => !inAgenda.has(e.id) && (!e.modes || e.modes.includes("therapist")));
  const selected = chosen || next?.id || view.agenda[0]?.id || others[0]?.id || "";
  const summary =
    view.agenda.find((e) => e.id === selected)?.summary ?? others.find((e) => e.id === selected)?.summary ?? "";
  return (
    <section class="console-panel start" aria-labelledby="start-heading">
      <h3 id="start-heading">Start an exercise</h3>
      <ol class="agenda-list" aria-label="Agenda">
        {view.agenda.map((e, i) => {
          const done = view.completed.some((c) => c.exerciseId === e.id);
          return (
            <li key={`${e.id}-${i}`} class={i === view.agendaNext ? "next" : undefined}>
              {e.title}
              {i === view.agendaNext ? " — next" : done ? " — done" : ""}
            </li>
          );
        })}
      </ol>
      <label for={selectId}>Exercise</label>
      <select id={selectId} value={selected} onChange={(e) => setChosen((e.currentTarget as HTMLSelectElement).value)}>
        <optgroup label="Agenda">
          {view.agenda.map((e, i) => (
            <option key={`${e.id}-${i}`} value={e.id}>
              {e.title}
            </option>
          ))}
        </optgroup>
        {others.length > 0 && (
          <optgroup label="Catalogue">
            {others.map((e) => (
              <option key={e.id} value={e.id}>
                {e.title}
              </option>
            ))}
          </optgroup>
        )}
      </select>
      {summary && <p class="hint">{summary}</p>}
      {catalogueError && <p class="hint">{catalogueError}</p>}
      {waiting.length > 0 && (
        <p class="hint">{waiting.map((p) => seatName(view, p)).join(" and ")} still in the waiting room.</p>
      )}
      <FirstSpeakerChoice view={view} value={firstSpeaker} onChange={setFirstSpeaker} />
      <CommandButton
        view={view}
        type="start-exercise"
        label="Start exercise"
        variant="primary"
        busy={busy || !selected}
        onClick={() => run({ type: "start-exercise", exerciseId: selected, firstSpeaker, seed: newSeed() })}
      />
      <ActionError text={error} />
    </section>
  );
}

/** Who acts in the current step, from the therapist's seat. */
function actorLine(view: SessionView): string {
  const ex = view.exercise!;
  const step = ex.step;
  switch (step.actor) {
    case "speaker":
      return `${seatName(view, ex.speaker)}'s move`;
    case "listener":
      return `${seatName(view, ex.listener)}'s move`;
    case "both":
      return "Both partners' move";
    case "therapist":
      return "Your move";
  }
}

/** What one partner's screen shows now: their role, their prompt, and whether the step waits for them. */
function PartnerSide({ view, p }: { view: SessionView; p: Partner }) {
  const side = view.exercise?.step.partners?.[p];
  if (!side) return null;
  return (
    <li class={`partner-side ${side.role}`} data-testid={`sees-${p}`}>
      <p class="side-head">
        <strong>{seatName(view, p)}</strong> · {side.role === "speaker" ? "speaking" : "listening"}
        <span class={`move-tag${side.yourMove ? " now" : ""}`} data-testid={`move-${p}`}>
          {sideStatus(view, p)}
        </span>
      </p>
      {side.prompt && (
        <p class="side-prompt">
          {seatName(view, p)} sees: “{promptForTherapist(view, p, side.prompt)}”
        </p>
      )}
    </li>
  );
}

/** The running exercise and step: progress, who holds the floor, what each partner sees, and the step's controls. */
export function ExercisePanel({ view, send }: { view: SessionView; send: Send }) {
  const ex = view.exercise;
  if (!ex) return null;
  const step = ex.step;
  return (
    <section class="console-panel exercise" aria-labelledby="exercise-heading" data-step-id={step.id}>
      <div class="exercise-head">
        <h3 id="exercise-heading">{ex.title}</h3>
        <StepProgress ex={ex} />
      </div>
      <p class="progress-line">
        <span>
          Step {ex.stepIndex + 1} of {ex.stepCount}: <strong>{step.title}</strong>
          {ex.cycles ? ` · round ${Math.min(ex.cycle + 1, ex.cycles)} of ${ex.cycles}` : ` · round ${ex.cycle + 1}`}
        </span>
      </p>
      <p class="floor" data-testid="floor">
        Speaker: <strong>{seatName(view, ex.speaker)}</strong> · Listener:{" "}
        <strong>{seatName(view, ex.listener)}</strong> · {actorLine(view)}
      </p>
      {step.partners ? (
        <ul class="partner-sides" aria-label="What each partner sees now">
          <PartnerSide view={view} p={ex.speaker} />
          <PartnerSide view={view} p={ex.listener} />
        </ul>
      ) : (
        step.prompt && <p class="prompt">{step.prompt}</p>
      )}
      {step.actor === "therapist" && step.prompt && <p class="prompt">{step.prompt}</p>}
      <QuestionCard question={step.question} />
      {view.paused && (
        <p class="paused-note" role="status">
          Paused. The partners see that the exercise is on hold.
        </p>
      )}
      {view.timeOut && (
        <p class="paused-note" role="status">
          {seatName(view, view.timeOut.by)} asked for a break until {clockTime(view.timeOut.returnAt)}; the exercise
          waits.
        </p>
      )}
      {(step.actor === "therapist" || ["private-answer", "guess", "pick", "agreement"].includes(step.kind)) && (
        <StepControls view={view} send={send} />
      )}
    </section>
  );
}

/** The pacing controls beside the step: the timer and pause, back, skip, hand the floor, end — each with its key. */
export function PacingPanel({ view, send }: { view: SessionView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const timerReasonId = useId();
  const ex = view.exercise;
  if (!ex) return null;
  const step = ex.step;
  const timer = permission(view, "adjust-timer");
  const hasTimer = step.deadline !== undefined || step.remainingMs !== undefined;
  return (
    <section class="console-panel pacing-panel" aria-labelledby="pacing-heading">
      <h3 id="pacing-heading">Pacing</h3>
      <div class={`timer-box${hasTimer ? "" : " none"}`}>
        {hasTimer && <Countdown deadline={step.deadline} remainingMs={step.remainingMs} />}
        {hasTimer && (
          <fieldset class="timer-adjust" aria-describedby={timer.allowed ? undefined : timerReasonId}>
            <legend class="sr-only">Adjust the timer</legend>
            {TIMER_STEPS.map((t) => (
              <button
                key={t.seconds}
                type="button"
                class="btn quiet small"
                title={t.long}
                disabled={!timer.allowed || busy}
                onClick={() => run({ type: "adjust-timer", seconds: t.seconds })}
              >
                {t.label}
              </button>
            ))}
          </fieldset>
        )}
        {!timer.allowed && hasTimer && <Reason id={timerReasonId} text={timer.reason} />}
      </div>
      <div class="pacing console-pacing">
        <PauseResumeButton view={view} busy={busy} run={run} />
        <CommandButton
          view={view}
          type="back-step"
          label="Back one step"
          busy={busy}
          onClick={() => run({ type: "back-step" })}
        />
        <CommandButton
          view={view}
          type="skip-step"
          label="Skip this step"
          busy={busy}
          onClick={() => run({ type: "skip-step" })}
        />
        <CommandButton
          view={view}
          type="hand-floor"
          label={`Hand the floor to ${seatName(view, ex.listener)}`}
          busy={busy}
          onClick={() => run({ type: "hand-floor" })}
        />
        <ConfirmButton
          view={view}
          type="end-exercise"
          label="End exercise"
          question="End this exercise now?"
          send={send}
        />
      </div>
      <ActionError text={error} />
    </section>
  );
}
