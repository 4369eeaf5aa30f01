/**
 * The therapist's side of issue 13: a partner's "I'd like to talk to my therapist alone", shown at once and first
 * on the console with the two things to do about it, and each partner's answer to the waiting room's safe-time
 * question. Nothing here reaches either partner's screen.
 */
import { useEffect, useRef } from "preact/hooks";
import type { Partner, SafetyAnswer, SessionView } from "../../../shared/protocol.ts";
import { ActionError, CommandButton, type Send, useAction } from "../room/Controls.tsx";
import { clockTime, seatName } from "../room/words.ts";

const PARTNERS: Partner[] = ["a", "b"];

/** A safe-time answer as the therapist reads it. */
export const SAFE_TIME_LABELS: Record<SafetyAnswer, string> = {
  yes: "Yes, a safe time and place",
  "not-now": "Not right now",
  "alone-first": "Would like to talk to you alone first",
};

const other = (p: Partner): Partner => (p === "a" ? "b" : "a");

/** Lets one waiting partner in on their own, so the therapist can talk with them before the other joins. */
function AdmitAlone({ view, partner, send }: { view: SessionView; partner: Partner; send: Send }) {
  const { busy, error, run } = useAction(send);
  return (
    <div class="ask-actions">
      <CommandButton
        view={view}
        type="admit"
        label={`Admit ${seatName(view, partner)} alone`}
        variant="secondary"
        busy={busy}
        onClick={() => run({ type: "admit", partners: [partner] })}
      />
      <ActionError text={error} />
    </div>
  );
}

/** One partner's waiting request, with what the therapist can do about it. */
function AskRow({ view, partner, send }: { view: SessionView; partner: Partner; send: Send }) {
  const { busy, error, run } = useAction(send);
  const ask = view.safety?.asks[partner];
  if (!ask) return null;
  const name = seatName(view, partner);
  const otherName = seatName(view, other(partner));
  const bothIn = view.admitted.a && view.admitted.b;
  return (
    <li class="ask" data-testid={`ask-${partner}`}>
      {ask.seen ? (
        <p>
          <strong>{name}</strong> asked to talk to you alone at {clockTime(ask.at)} · marked as seen.
        </p>
      ) : (
        <p>
          <strong>{name}</strong> asked at {clockTime(ask.at)}. {otherName} can't see this request.
        </p>
      )}
      {!ask.seen && (
        <div class="ask-actions">
          {!view.admitted[partner] ? (
            <CommandButton
              view={view}
              type="admit"
              label={`Admit ${name} alone`}
              variant="primary"
              busy={busy}
              onClick={() => run({ type: "admit", partners: [partner] })}
            />
          ) : bothIn && view.steppedOut === null ? (
            <CommandButton
              view={view}
              type="step-out"
              label={`Step ${otherName} out`}
              variant="primary"
              busy={busy}
              onClick={() => run({ type: "step-out", partner: other(partner) })}
            />
          ) : null}
          <CommandButton
            view={view}
            type="seen-ask"
            label="Mark as seen"
            variant="secondary"
            busy={busy}
            onClick={() => run({ type: "seen-ask", partner })}
          />
        </div>
      )}
      <ActionError text={error} />
    </li>
  );
}

/** The safety panel at the top of the console (therapist sessions only). */
export function SafetyPanel({
  view,
  send,
  announce,
}: {
  view: SessionView;
  send: Send;
  announce: (text: string) => void;
}) {
  const safety = view.safety;
  // Announce each new request and answer once, as it arrives (not those already there when the console opened).
  const seen = useRef<Set<string> | null>(null);
  useEffect(() => {
    if (!safety) return;
    const now = new Map<string, string>();
    for (const p of PARTNERS) {
      const ask = safety.asks[p];
      if (ask) now.set(`ask:${p}:${ask.at}`, `${seatName(view, p)} would like to talk to you alone.`);
      const check = safety.checks[p];
      if (check) now.set(`check:${p}:${check.at}`, `${seatName(view, p)} answered: ${SAFE_TIME_LABELS[check.answer]}.`);
    }
    if (seen.current) {
      const fresh = [...now].filter(([key]) => !seen.current?.has(key)).map(([, line]) => line);
      if (fresh.length > 0) announce(`Only you can see this. ${fresh.join(" ")}`);
    }
    seen.current = new Set(now.keys());
  });
  if (view.mode !== "therapist" || !safety) return null;
  const asks = PARTNERS.filter((p) => safety.asks[p]);
  const waiting = asks.filter((p) => !safety.asks[p]?.seen);
  const anyCheck = PARTNERS.some((p) => safety.checks[p]);
  const someoneWaiting = PARTNERS.some((p) => !view.admitted[p]);
  if (asks.length === 0 && !anyCheck && !someoneWaiting) return null;
  return (
    <section
      class={`console-panel safety${waiting.length > 0 ? " safety-alert" : ""}`}
      aria-labelledby="safety-heading"
      data-testid="safety-panel"
    >
      <h3 id="safety-heading">
        {waiting.length > 0
          ? `${waiting.map((p) => seatName(view, p)).join(" and ")} would like to talk to you alone`
          : "Safety · only you see this"}
      </h3>
      {asks.length > 0 && (
        <ul class="safe-answers asks">
          {asks.map((p) => (
            <AskRow key={p} view={view} partner={p} send={send} />
          ))}
        </ul>
      )}
      <p class="hint">Is this a safe time and place to talk? Each partner answers alone in the waiting room.</p>
      <ul class="safe-answers" data-testid="safe-answers">
        {PARTNERS.map((p) => {
          const check = safety.checks[p];
          return (
            <li key={p} data-testid={`safe-answer-${p}`}>
              <strong>{seatName(view, p)}</strong>:{" "}
              {check ? (
                <>
                  <span class={check.answer === "yes" ? "" : "concern"}>{SAFE_TIME_LABELS[check.answer]}</span>
                  <span class="hint"> · {clockTime(check.at)}</span>
                  {check.answer !== "yes" && !view.admitted[p] && <AdmitAlone view={view} partner={p} send={send} />}
                </>
              ) : (
                <span class="hint">{view.admitted[p] ? "not answered" : "no answer yet"}</span>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
