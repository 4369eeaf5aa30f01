/**
 * What a partner of a therapist session can tell their therapist alone (issue 13): the waiting room's safe-time
 * question and the quiet "I'd like to talk to my therapist alone" signal. Only the sender's own screen and the
 * therapist's console ever show them; neither is offered when both partners share this device.
 */
import { useEffect, useId, useRef, useState } from "preact/hooks";
import type { SafetyAnswer, SessionView } from "../../../shared/protocol.ts";
import { ActionError, type Send, useAction } from "../room/Controls.tsx";
import { permission } from "../room/words.ts";
import { useOneDevice } from "./device.ts";

/** The three answers, as the partner reads them. */
export const SAFE_TIME_CHOICES: { answer: SafetyAnswer; label: string }[] = [
  { answer: "yes", label: "Yes" },
  { answer: "not-now", label: "Not right now" },
  { answer: "alone-first", label: "I'd like to talk to my therapist alone first" },
];

/** Whether this seat is a partner of a therapist session on a device of their own. */
function partnerAlone(view: SessionView, oneDevice: boolean): boolean {
  return view.mode === "therapist" && view.you.seat !== "therapist" && !oneDevice && view.phase !== "ended";
}

/** The waiting room's "Is this a safe time and place to talk?", answered alone and changeable until admitted. */
export function SafeTimeCheck({ view, send }: { view: SessionView; send: Send }) {
  const oneDevice = useOneDevice();
  const { busy, error, run } = useAction(send);
  const groupName = useId();
  const hintId = useId();
  // The choice shows as made at once; the view confirms it (or the error says why it did not go through).
  const [picked, setPicked] = useState<SafetyAnswer | null>(null);
  if (!partnerAlone(view, oneDevice) || !view.waiting) return null;
  const current = picked ?? view.yourSafety?.check;
  const allowed = permission(view, "safety-check").allowed;
  return (
    <section
      class="safe-check"
      aria-label="A question from your therapist"
      data-testid="safe-check"
      data-version={view.version}
    >
      <fieldset disabled={!allowed || busy} aria-describedby={hintId}>
        <legend>Is this a safe time and place to talk?</legend>
        <div class="chips">
          {SAFE_TIME_CHOICES.map((c) => (
            <label key={c.answer} class={`chip${current === c.answer ? " selected" : ""}`}>
              <input
                type="radio"
                name={groupName}
                value={c.answer}
                checked={current === c.answer}
                onChange={async () => {
                  setPicked(c.answer);
                  if (!(await run({ type: "safety-check", answer: c.answer }))) setPicked(null);
                }}
              />
              <span>{c.label}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <p id={hintId} class="hint">
        Only your therapist sees your answer. You can change it until they let you in.
      </p>
      {view.yourSafety?.check && (
        <p class="hint" role="status">
          Thank you. Your therapist has your answer.
        </p>
      )}
      <ActionError text={error} />
    </section>
  );
}

/**
 * The quiet control at the foot of a partner's room. Once used, the partner's own screen says so in a line they
 * can hide again (someone may glance at it); the other partner's screen never changes.
 */
export function AskAlone({ view, send }: { view: SessionView; send: Send }) {
  const oneDevice = useOneDevice();
  const { busy, error, run } = useAction(send);
  const asked = view.yourSafety?.asked;
  const [hidden, setHidden] = useState<number | null>(null);
  const toldRef = useRef<HTMLParagraphElement>(null);
  // After pressing the button, focus moves to the line that replaces it (once the new request is in the view).
  const askedBefore = useRef<number | null>(null);
  useEffect(() => {
    if (askedBefore.current !== null && asked && asked.at !== askedBefore.current) {
      askedBefore.current = null;
      toldRef.current?.focus();
    }
  });
  if (!partnerAlone(view, oneDevice) || view.waiting) return null;
  if (!permission(view, "ask-alone").allowed) return null;
  const told = asked !== undefined && hidden !== asked.at ? asked : null;
  return (
    <aside class="ask-alone" aria-label="Just for you and your therapist" data-testid="ask-alone">
      {told ? (
        <div class="ask-alone-told">
          <p ref={toldRef} tabIndex={-1} role="status" data-testid="ask-alone-told">
            {told.seen
              ? "Your therapist has seen your request. Only they can see it."
              : "Your therapist has been told. Only they can see this."}
          </p>
          <button type="button" class="btn quiet small" onClick={() => setHidden(told.at)}>
            Hide this
          </button>
        </div>
      ) : (
        <button
          type="button"
          class="btn quiet small"
          disabled={busy}
          onClick={async () => {
            askedBefore.current = asked?.at ?? -1;
            if (!(await run({ type: "ask-alone" }))) askedBefore.current = null;
          }}
        >
          I'd like to talk to my therapist alone
        </button>
      )}
      <ActionError text={error} />
    </aside>
  );
}
