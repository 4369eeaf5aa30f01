/**
 * An agreement step: what the couple agrees (a few words, or one of the step's options) and when (a native date and
 * time picker). One partner offers and the other agrees, or suggests another (actor "both"); or one partner records
 * it. What is agreed is kept in the session and listed in the summary.
 */
import "./kinds.css";
import { useId, useState } from "preact/hooks";
import type { AgreementOffer, AgreementStepView, SessionView, StepView } from "../../../../shared/protocol.ts";
import { ActionError, Reason, type Send, useAction } from "../Controls.tsx";
import { actingSeat, clockTime, permission, seatName } from "../words.ts";
import { formatWhen, localInputValue, otherOf, windowWords } from "./words.ts";

const TEXT_MAX = 200;
/** The furthest ahead the picker offers when the step sets no window. */
const DEFAULT_WINDOW_HOURS = 366 * 24;

function OfferCard({ view, offer }: { view: SessionView; offer: AgreementOffer & { label?: string } }) {
  const mine = offer.by === view.you.seat;
  const who = mine ? "You suggested" : `${seatName(view, offer.by)} suggests`;
  const what = offer.label ?? offer.what;
  return (
    <div class="offer" data-testid="agreement-offer">
      <p class="offer-who">{who}:</p>
      {offer.when && <p class="offer-when">{formatWhen(offer.when)}</p>}
      {what && <p class="offer-what">{what}</p>}
      {!what && !offer.when && <p class="offer-what">What you said aloud</p>}
    </div>
  );
}

/** A few ready times within a short window (e.g. "the next day"): in an hour, this evening, tomorrow. */
export function quickTimes(from: number, hours: number): { label: string; value: string }[] {
  const until = from + hours * 3_600_000;
  const at = (days: number, hour: number) => {
    const d = new Date(from);
    d.setDate(d.getDate() + days);
    d.setHours(hour, 0, 0, 0);
    return d.getTime();
  };
  const hourFrom = (n: number) => {
    const d = new Date(from + n * 3_600_000);
    d.setMinutes(d.getMinutes() < 30 ? 30 : 60, 0, 0);
    return d.getTime();
  };
  const candidates = [
    { label: "In an hour", ms: hourFrom(1) },
    { label: "This evening", ms: at(0, 19) },
    { label: "Tomorrow morning", ms: at(1, 9) },
    { label: "Tomorrow evening", ms: at(1, 19) },
  ];
  return candidates
    .filter((c) => c.ms > from + 15 * 60_000 && c.ms < until)
    .map((c) => ({ label: `${c.label} (${clockTime(c.ms)})`, value: localInputValue(c.ms) }));
}

function AgreementForm({
  view,
  step,
  send,
  countering,
  onSent,
}: {
  view: SessionView;
  step: StepView;
  send: Send;
  countering: boolean;
  onSent?: () => void;
}) {
  const a = step.agreement as AgreementStepView;
  const { busy, error, run } = useAction(send);
  const [option, setOption] = useState<string | null>(null);
  const [what, setWhat] = useState("");
  const [when, setWhen] = useState("");
  const ids = { what: useId(), when: useId(), whenHint: useId(), reason: useId() };
  const p = permission(view, "agree");
  const typed = view.channel === "typed";
  // The window is judged when the offer arrives; the picker offers it from this minute on.
  const [opened] = useState(() => Date.now());
  const hours = a.withinHours ?? DEFAULT_WINDOW_HOURS;
  const min = localInputValue(opened + 60_000);
  const max = localInputValue(opened + hours * 3_600_000);
  const whatGiven = option !== null || (typed && what.trim().length > 0);
  const whatMissing = a.what === "required" && !whatGiven && (typed || (a.options?.length ?? 0) > 0);
  const whenMissing = a.when === "required" && when === "";
  const submit = async (e: Event) => {
    e.preventDefault();
    if (whatMissing || whenMissing) return;
    const at = when ? new Date(when) : null;
    const ok = await run({
      type: "agree",
      ...(option !== null ? { option } : typed && what.trim() ? { what: what.trim() } : {}),
      ...(at && !Number.isNaN(at.getTime()) ? { when: at.toISOString() } : {}),
    });
    if (ok) onSent?.();
  };
  const timeFirst = a.when === "required" && a.what !== "required";
  const whatBlock = (
    <>
      {a.what && a.options && (
        <fieldset class="choice-group">
          <legend>{a.what === "required" ? "Choose one" : "Choose one, if you like"}</legend>
          <div class="chips">
            {a.options.map((o) => (
              <label key={o.id} class={`chip${option === o.id ? " selected" : ""}`}>
                <input
                  type="radio"
                  name={`${step.id}-option`}
                  checked={option === o.id}
                  onChange={() => {
                    setOption(o.id);
                    setWhat("");
                  }}
                />
                <span>{o.label}</span>
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {a.what && typed && (
        <>
          <label for={ids.what}>
            {a.options ? "Or in your own words" : a.what === "required" ? "In a few words" : "A detail, if it helps"}
          </label>
          <input
            id={ids.what}
            type="text"
            maxLength={TEXT_MAX}
            value={what}
            onInput={(e) => {
              setWhat((e.currentTarget as HTMLInputElement).value);
              setOption(null);
            }}
          />
        </>
      )}
      {a.what && !typed && !a.options && (
        <p class="aloud">Say it to each other aloud; this step keeps the moment{a.when ? " and the time" : ""}.</p>
      )}
    </>
  );
  const quick = hours <= 48 ? quickTimes(opened, hours) : [];
  const whenBlock = a.when ? (
    <>
      {quick.length > 0 && (
        <fieldset class="choice-group quick-times">
          <legend>Pick a time</legend>
          <div class="chips">
            {quick.map((q) => (
              <label key={q.label} class={`chip${when === q.value ? " selected" : ""}`}>
                <input
                  type="radio"
                  name={`${step.id}-when`}
                  checked={when === q.value}
                  onChange={() => setWhen(q.value)}
                />
                <span>{q.label}</span>
              </label>
            ))}
          </div>
        </fieldset>
      )}
      <label for={ids.when}>
        {quick.length > 0
          ? "Or choose a day and time"
          : a.when === "required"
            ? "Day and time"
            : "Day and time (optional)"}
      </label>
      <input
        id={ids.when}
        type="datetime-local"
        class="when-input"
        min={min}
        max={max}
        required={a.when === "required"}
        aria-describedby={ids.whenHint}
        value={when}
        onInput={(e) => setWhen((e.currentTarget as HTMLInputElement).value)}
      />
      <p id={ids.whenHint} class="hint">
        Any time within {windowWords(hours)}.
      </p>
    </>
  ) : null;
  const label = !a.needsAcknowledgement ? "Keep this" : countering ? "Suggest this instead" : "Suggest this";
  return (
    <form class="controls agreement-form" onSubmit={submit}>
      {/* The part that must be given comes first: a time asked for with optional words leads with the time. */}
      {timeFirst && whenBlock}
      {whatBlock}
      {!timeFirst && whenBlock}
      <button
        type="submit"
        class="btn primary"
        disabled={!p.allowed || busy || whatMissing || whenMissing}
        aria-describedby={p.allowed ? undefined : ids.reason}
      >
        {label}
      </button>
      {!p.allowed && <Reason id={ids.reason} text={p.reason} />}
      <ActionError text={error} />
    </form>
  );
}

export function AgreementControl({ view, step, send }: { view: SessionView; step: StepView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const [changing, setChanging] = useState(false);
  const a = step.agreement;
  if (!a) return null;
  const seat = view.you.seat;
  const offer = a.offer;
  const agree = permission(view, "agree");
  const ack = permission(view, "acknowledge");
  const about = a.picked ? (
    <p class="agreement-about">
      About: <strong>{a.picked}</strong>
    </p>
  ) : null;
  if (!offer) {
    if (agree.allowed && seat !== "therapist") {
      return (
        <>
          {about}
          <AgreementForm view={view} step={step} send={send} countering={false} />
        </>
      );
    }
    const actor = actingSeat(view);
    return (
      <>
        {about}
        <p class="hint" role="status">
          {step.actor === "both"
            ? "Waiting for a suggestion from either of them."
            : `${actor ? seatName(view, actor) : "Your partner"} is putting it into words.`}
        </p>
      </>
    );
  }
  const mine = offer.by === seat;
  const other = seat === "therapist" ? null : otherOf(seat);
  return (
    <div class="agreement">
      {about}
      <OfferCard view={view} offer={offer} />
      {ack.allowed && !changing && (
        <div class="offer-actions">
          <button type="button" class="btn primary" disabled={busy} onClick={() => run({ type: "acknowledge" })}>
            {step.actor === "both" ? "Agree" : "I agree"}
          </button>
          {step.actor === "both" && agree.allowed && (
            <button type="button" class="btn secondary" onClick={() => setChanging(true)}>
              Suggest something else
            </button>
          )}
          {step.actor !== "both" && (
            <p class="hint">
              If it isn't right for you yet, tell {seatName(view, offer.by)}: they can change it before you agree.
            </p>
          )}
        </div>
      )}
      {mine && !changing && (
        <div class="offer-actions">
          <p class="hint" role="status">
            Waiting for {other ? seatName(view, other) : "your partner"} to agree.
          </p>
          {agree.allowed && (
            <button type="button" class="btn quiet small" onClick={() => setChanging(true)}>
              Change my suggestion
            </button>
          )}
        </div>
      )}
      {seat === "therapist" && (
        <p class="hint" role="status">
          Waiting for {offer.by === "therapist" ? "a partner" : seatName(view, otherOf(offer.by))} to agree.
        </p>
      )}
      {changing && (
        <>
          <AgreementForm view={view} step={step} send={send} countering={!mine} onSent={() => setChanging(false)} />
          <button type="button" class="btn quiet small" onClick={() => setChanging(false)}>
            Keep the suggestion as it is
          </button>
        </>
      )}
      <ActionError text={error} />
    </div>
  );
}
