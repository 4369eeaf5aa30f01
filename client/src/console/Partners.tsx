/** The therapist's view of the couple: who is connected, who waits, who is stepped out; admit and step out. */
import type { ComponentChildren } from "preact";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import { ActionError, CommandButton, type Send, useAction } from "../room/Controls.tsx";
import { clockTime, seatName } from "../room/words.ts";
import { PartnerNewLink } from "./PartnerLink.tsx";

const PARTNERS: Partner[] = ["a", "b"];

/** Where a partner is in the therapist-led session, in words. */
export function partnerStatus(view: SessionView, p: Partner): "waiting" | "in the room" | "stepped out" {
  if (!view.admitted[p]) return "waiting";
  if (view.steppedOut === p) return "stepped out";
  return "in the room";
}

/**
 * One card per partner with presence, status, a break they asked for, and the admit / step-out controls; "admit
 * both" below. `partnerExtra` is the slot under each card's status for what else the therapist must see of that
 * partner (the safety panel: their private signal and safe-time answer).
 */
export function PartnersPanel({
  view,
  send,
  partnerExtra,
  token,
}: {
  view: SessionView;
  send: Send;
  partnerExtra?: (p: Partner) => ComponentChildren;
  /** The therapist's link token: with it, each card offers a new link for that partner. */
  token?: string | undefined;
}) {
  const { busy, error, run } = useAction(send);
  const waiting = PARTNERS.filter((p) => !view.admitted[p]);
  const ended = view.phase === "ended";
  return (
    <section class="console-panel partners" aria-labelledby="partners-heading">
      <h3 id="partners-heading">The couple</h3>
      <ul class="partner-list">
        {PARTNERS.map((p) => {
          const status = partnerStatus(view, p);
          const name = seatName(view, p);
          return (
            <li key={p} class={`partner-row status-${status.replace(/ /g, "-")}`} data-testid={`partner-${p}`}>
              <div class="partner-who">
                <strong>{name}</strong>
                <span class={`presence-chip${view.presence[p] ? " here" : " away"}`}>
                  <span class="dot" aria-hidden="true" />
                  {view.presence[p] ? "connected" : "not connected"}
                </span>
                <span class="status-tag" data-testid={`status-${p}`}>
                  {status}
                </span>
              </div>
              {view.timeOut?.by === p && view.phase !== "ended" && (
                <p class="partner-break" data-testid={`break-${p}`}>
                  {name} asked for a break until {clockTime(view.timeOut.returnAt)}.
                </p>
              )}
              {partnerExtra && <div class="partner-extra">{partnerExtra(p)}</div>}
              {!ended && (
                <div class="partner-actions">
                  {status === "waiting" ? (
                    <CommandButton
                      view={view}
                      type="admit"
                      label={`Admit ${name}`}
                      variant="primary"
                      busy={busy}
                      onClick={() => run({ type: "admit", partners: [p] })}
                    />
                  ) : status === "stepped out" ? (
                    <CommandButton
                      view={view}
                      type="bring-back"
                      label="Bring both back"
                      variant="primary"
                      busy={busy}
                      onClick={() => run({ type: "bring-back" })}
                    />
                  ) : (
                    <CommandButton
                      view={view}
                      type="step-out"
                      label={`Step ${name} out`}
                      variant="quiet"
                      busy={busy}
                      onClick={() => run({ type: "step-out", partner: p })}
                    />
                  )}
                  {token && <PartnerNewLink view={view} partner={p} token={token} />}
                </div>
              )}
            </li>
          );
        })}
      </ul>
      {!ended && waiting.length === 2 && (
        <CommandButton
          view={view}
          type="admit"
          label="Admit both"
          variant="secondary"
          busy={busy}
          onClick={() => run({ type: "admit", partners: ["a", "b"] })}
        />
      )}
      {view.steppedOut && (
        <p class="hint">
          {seatName(view, view.steppedOut)} is in a private waiting space and sees none of your conversation with{" "}
          {seatName(view, view.steppedOut === "a" ? "b" : "a")}. The exercise waits where it was.
        </p>
      )}
      <ActionError text={error} />
    </section>
  );
}
