/** The controls of the current step for one seat: what they may do now, and why not when they may not. */
import type { Ref } from "preact";
import { useId, useRef, useState } from "preact/hooks";
import type {
  CheckInAnswer,
  Command,
  CommandAck,
  CommandType,
  SessionView,
  StepView,
} from "../../../shared/protocol.ts";
import { AgreementControl } from "./kinds/Agreement.tsx";
import { GuessControl } from "./kinds/Guess.tsx";
import { IdeasControl } from "./kinds/Ideas.tsx";
import { PickControl } from "./kinds/Pick.tsx";
import { permission, seatName } from "./words.ts";

export type Send = (command: Command) => Promise<CommandAck>;

const TEXT_MAX = 2000;

/** Runs a command and remembers whether it is in flight and why it failed. */
export function useAction(send: Send): {
  busy: boolean;
  error: string | null;
  run: (command: Command) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (command: Command): Promise<boolean> => {
    setBusy(true);
    setError(null);
    const ack = await send(command);
    setBusy(false);
    if (!ack.ok) setError(ack.error.message);
    return ack.ok;
  };
  return { busy, error, run };
}

/** The engine's reason a control is disabled, tied to the control by id. */
export function Reason({ id, text }: { id: string; text?: string | undefined }) {
  if (!text) return null;
  return (
    <p id={id} class="reason">
      {text}
    </p>
  );
}

/** An error returned by the server for the last attempt. */
export function ActionError({ text }: { text: string | null }) {
  if (!text) return null;
  return (
    <p class="action-error" role="alert">
      {text}
    </p>
  );
}

/** A button for one command type, disabled with the engine's reason when that command is not allowed now. */
export function CommandButton(props: {
  view: SessionView;
  type: CommandType;
  label: string;
  onClick: () => void;
  busy?: boolean;
  variant?: "primary" | "secondary" | "quiet" | "danger";
  showReason?: boolean;
}) {
  const reasonId = useId();
  const p = permission(props.view, props.type);
  const showReason = props.showReason ?? true;
  return (
    <span class="command">
      <button
        type="button"
        class={`btn ${props.variant ?? "secondary"}`}
        disabled={!p.allowed || props.busy}
        aria-describedby={!p.allowed && showReason ? reasonId : undefined}
        onClick={props.onClick}
      >
        {props.label}
      </button>
      {!p.allowed && showReason && <Reason id={reasonId} text={p.reason} />}
    </span>
  );
}

/** Pause while the exercise runs, Resume while it is paused: one toggle for the seat room and the console alike. */
export function PauseResumeButton({
  view,
  busy,
  run,
  pauseVariant = "secondary",
  showPauseReason = true,
}: {
  view: SessionView;
  busy: boolean;
  run: (command: Command) => Promise<boolean>;
  pauseVariant?: "secondary" | "quiet";
  /** Whether a disabled Pause shows its reason underneath (the partner room leaves it out to keep the row small). */
  showPauseReason?: boolean;
}) {
  return view.paused ? (
    <CommandButton
      view={view}
      type="resume"
      label="Resume"
      variant="primary"
      busy={busy}
      onClick={() => run({ type: "resume" })}
    />
  ) : (
    <CommandButton
      view={view}
      type="pause"
      label="Pause"
      variant={pauseVariant}
      busy={busy}
      showReason={showPauseReason}
      onClick={() => run({ type: "pause" })}
    />
  );
}

/** Props of a main room panel (step or lobby) whose heading takes focus when the turn changes. */
export type HeadedPanelProps = {
  view: SessionView;
  send: Send;
  headingRef: Ref<HTMLHeadingElement>;
};

/** Props shared by the two whole-room screens (a partner's seat room and the therapist console). */
export type RoomScreenProps = {
  view: SessionView;
  send: Send;
  announce: (text: string) => void;
  /** While reconnecting every control is disabled: nothing sent now could be confirmed. */
  offline?: boolean;
};

/** The start of a sentence starter, up to its first gap ("I feel ... when ..." gives "I feel "). */
export function starterText(stem: string): string {
  const gap = stem.search(/\s*(\.\.\.|…)/);
  return gap < 0 ? `${stem} ` : `${stem.slice(0, gap)} `;
}

/** A draft kept in this tab until it is sent: a reload does not lose half-typed words. */
function useDraft(key: string): [string, (text: string) => void] {
  const [text, setText] = useState(() => {
    try {
      return sessionStorage.getItem(key) ?? "";
    } catch {
      return "";
    }
  });
  const update = (next: string) => {
    setText(next);
    try {
      if (next) sessionStorage.setItem(key, next);
      else sessionStorage.removeItem(key);
    } catch {
      // Storage may be unavailable (private mode): the draft then lives only in the page.
    }
  };
  return [text, update];
}

/** The draft key of this seat's words at this visit of this step. */
function draftKey(view: SessionView, step: StepView): string {
  const ex = view.exercise;
  return `attune:draft:${view.id}:${view.you.seat}:${ex?.id}:${ex?.cycle}:${step.id}:${ex?.stepIndex}:${ex?.speaker}`;
}

function SayControl({ view, step, send }: { view: SessionView; step: StepView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const [text, setText] = useDraft(draftKey(view, step));
  const inputId = useId();
  const reasonId = useId();
  const boxRef = useRef<HTMLTextAreaElement>(null);
  const p = permission(view, "say");
  // The partner who waits sees a calm line, not a form they cannot use.
  if (!step.yourMove && !p.allowed) return null;
  if (view.channel === "spoken") {
    return (
      <div class="controls">
        <p class="hint">Say it aloud to {partnerWord(view)}, then tap Done.</p>
        <button type="button" class="btn primary" disabled={busy} onClick={() => run({ type: "say" })}>
          Done
        </button>
        <ActionError text={error} />
      </div>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    if (await run({ type: "say", text })) setText("");
  };
  const insert = (stem: string) => {
    const start = starterText(stem);
    const next = text.trim() ? `${text.replace(/\s*$/, "")} ${start}` : start;
    setText(next);
    requestAnimationFrame(() => {
      const box = boxRef.current;
      if (!box) return;
      box.focus();
      box.setSelectionRange(next.length, next.length);
    });
  };
  return (
    <form class="controls" onSubmit={submit}>
      <label for={inputId}>Your words</label>
      <textarea
        id={inputId}
        ref={boxRef}
        rows={4}
        maxLength={TEXT_MAX}
        value={text}
        aria-describedby={p.allowed ? undefined : reasonId}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      />
      {step.stems.length > 0 && (
        <div class="stems">
          <p class="stems-label">Sentence starters: tap one to begin with it</p>
          <div class="stem-buttons">
            {step.stems.map((stem) => (
              <button key={stem} type="button" class="btn quiet small" onClick={() => insert(stem)}>
                {stem}
              </button>
            ))}
          </div>
        </div>
      )}
      <button type="submit" class="btn primary" disabled={busy}>
        Send
      </button>
      {!p.allowed && <Reason id={reasonId} text={p.reason} />}
      <ActionError text={error} />
    </form>
  );
}

/** "your partner" by name, for this seat. */
function partnerWord(view: SessionView): string {
  const seat = view.you.seat;
  return seat === "therapist" ? "the couple" : seatName(view, seat === "a" ? "b" : "a");
}

function ChooseControl({ view, step, send }: { view: SessionView; step: StepView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const reasonId = useId();
  const p = permission(view, "choose");
  if (!step.yourMove && !p.allowed) return null;
  return (
    <div class="controls">
      <fieldset class="options">
        <legend class="sr-only">{step.title}</legend>
        {(step.options ?? []).map((option) => (
          <button
            key={option.id}
            type="button"
            class="btn option"
            disabled={busy}
            aria-describedby={p.allowed ? undefined : reasonId}
            onClick={() => run({ type: "choose", option: option.id })}
          >
            {option.label}
          </button>
        ))}
      </fieldset>
      {!p.allowed && <Reason id={reasonId} text={p.reason} />}
      <ActionError text={error} />
    </div>
  );
}

function describeAnswer(answer: CheckInAnswer): string {
  const parts: string[] = [];
  if (answer.rating !== undefined) parts.push(`${answer.rating}`);
  if (answer.feeling) parts.push(answer.feeling);
  return parts.join(" · ");
}

function AnswerControl({ view, step, send }: { view: SessionView; step: StepView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const fields = step.answerFields ?? {};
  const [rating, setRating] = useState<number | null>(null);
  const [feeling, setFeeling] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const noteId = useId();
  const reasonId = useId();
  const p = permission(view, "answer");
  const seat = view.you.seat;
  if (seat === "therapist") {
    return (
      <p class="hint">
        Answered so far:{" "}
        {(["a", "b"] as const)
          .filter((s) => step.answered?.[s])
          .map((s) => seatName(view, s))
          .join(", ") || "no one yet"}
        .
      </p>
    );
  }
  const other = seat === "a" ? "b" : "a";
  const otherAnswered = step.answered?.[other];
  if (step.yourAnswer) {
    return (
      <div class="controls answered">
        <p>
          You answered: <strong>{describeAnswer(step.yourAnswer)}</strong>
          {step.yourAnswer.note ? ` — “${step.yourAnswer.note}”` : ""}
        </p>
        <p class="hint">
          {otherAnswered
            ? "You've both answered."
            : `Waiting for ${seatName(view, other)}. You'll see both answers together.`}
        </p>
      </div>
    );
  }
  const ready = (!fields.rating || rating !== null) && (!fields.feelings || feeling !== null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    const answer: CheckInAnswer = {};
    if (fields.rating && rating !== null) answer.rating = rating;
    if (fields.feelings && feeling) answer.feeling = feeling;
    if (fields.note && note.trim()) answer.note = note.trim();
    await run({ type: "answer", answer });
  };
  const ratings: number[] = [];
  if (fields.rating) for (let r = fields.rating.min; r <= fields.rating.max; r++) ratings.push(r);
  return (
    <form class="controls" onSubmit={submit}>
      {fields.rating && (
        <fieldset class="choice-group rating" disabled={!p.allowed}>
          <legend>
            How are you, from {fields.rating.min} (very low) to {fields.rating.max} (very good)?
          </legend>
          <div class="chips">
            {ratings.map((r) => (
              <label key={r} class={`chip${rating === r ? " selected" : ""}`}>
                <input type="radio" name="rating" value={r} checked={rating === r} onChange={() => setRating(r)} />
                <span>{r}</span>
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {fields.feelings && (
        <fieldset class="choice-group" disabled={!p.allowed}>
          <legend>Which feeling fits best?</legend>
          <div class="chips">
            {fields.feelings.map((f) => (
              <label key={f} class={`chip${feeling === f ? " selected" : ""}`}>
                <input type="radio" name="feeling" value={f} checked={feeling === f} onChange={() => setFeeling(f)} />
                <span>{f}</span>
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {fields.note && (
        <>
          <label for={noteId}>A sentence, if you like (optional)</label>
          <textarea
            id={noteId}
            rows={2}
            maxLength={TEXT_MAX}
            value={note}
            disabled={!p.allowed}
            onInput={(e) => setNote((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </>
      )}
      <p class="hint">
        {otherAnswered ? `${seatName(view, other)} has answered.` : "Only you can see this until you've both answered."}
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

function TalkControl({ view, step, send }: { view: SessionView; step: StepView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const [text, setText] = useState("");
  const inputId = useId();
  const postReasonId = useId();
  const post = permission(view, "post");
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    if (await run({ type: "post", text })) setText("");
  };
  return (
    <div class="controls">
      {view.channel === "typed" && (
        <form class="post-form" onSubmit={submit}>
          <label for={inputId}>Write a message</label>
          <textarea
            id={inputId}
            rows={3}
            maxLength={TEXT_MAX}
            value={text}
            disabled={!post.allowed}
            aria-describedby={post.allowed ? undefined : postReasonId}
            onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
          />
          <button type="submit" class="btn secondary" disabled={busy}>
            Send
          </button>
          {!post.allowed && <Reason id={postReasonId} text={post.reason} />}
        </form>
      )}
      {step.role !== "listener" && (
        <CommandButton
          view={view}
          type="end-turn"
          label="I've finished my turn"
          variant="primary"
          busy={busy}
          onClick={() => run({ type: "end-turn" })}
        />
      )}
      <ActionError text={error} />
    </div>
  );
}

/** The controls that match the step's kind. */
export function StepControls({ view, send }: { view: SessionView; send: Send }) {
  const step = view.exercise?.step;
  if (!step) return null;
  switch (step.kind) {
    case "say":
      return <SayControl key={step.id} view={view} step={step} send={send} />;
    case "choose":
      return <ChooseControl view={view} step={step} send={send} />;
    case "private-answer":
      if (step.answerFields?.ideas) return <IdeasControl key={step.id} view={view} step={step} send={send} />;
      return <AnswerControl key={step.id} view={view} step={step} send={send} />;
    case "talk":
      return <TalkControl view={view} step={step} send={send} />;
    case "guess":
      return <GuessControl key={`${step.id}-${view.exercise?.cycle}`} view={view} step={step} send={send} />;
    case "pick":
      return <PickControl view={view} step={step} send={send} />;
    case "agreement":
      return <AgreementControl key={step.id} view={view} step={step} send={send} />;
    default:
      return null;
  }
}
