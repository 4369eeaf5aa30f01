/**
 * The therapist gives a partner a new link (a partner in a therapist-led session cannot do it themselves): the old
 * link stops working at once, on every device it was opened on, and the new one is shown here once, to send to that
 * partner privately. In an encrypted session the new link carries that partner's keys, added in this browser from
 * the keys of the therapist's own link; the server never sees them.
 */
import { useId, useState } from "preact/hooks";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import { linkWithKeys, readKeyFragment } from "../../../shared/session-crypto.ts";
import { CopyButton } from "../home/CopyButton.tsx";
import { linkKeys } from "../room/keys.ts";
import { seatName } from "../room/words.ts";

/** A partner's new link from the bare one the server answered: with the keys that partner may hold, if any. */
export async function partnerLinkWithKeys(
  bare: string,
  therapistToken: string,
  partner: Partner,
  encrypted: boolean,
): Promise<string | null> {
  if (!encrypted) return bare;
  const keys = await readKeyFragment(linkKeys(therapistToken)).catch(() => null);
  if (!keys?.conversation) return null;
  return linkWithKeys(bare, keys, partner, "therapist");
}

function reason(body: unknown): string | null {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof message === "string" ? message : null;
}

export function PartnerNewLink({ view, partner, token }: { view: SessionView; partner: Partner; token: string }) {
  const [stage, setStage] = useState<"closed" | "asking" | "busy">("closed");
  const [error, setError] = useState<string | null>(null);
  const [link, setLink] = useState<string | null>(null);
  const inputId = useId();
  const name = seatName(view, partner);
  const encrypted = view.encrypted === true;

  if (link) {
    return (
      <div class="partner-new-link" data-testid={`new-link-${partner}`}>
        <p>
          {name}'s old link is switched off. Send them this one privately, the way you sent the first: it opens their
          seat from now on.
        </p>
        <label for={inputId}>{name}'s new link</label>
        <input id={inputId} type="text" readOnly value={link} />
        <CopyButton text={link} inputId={inputId} label={`${name}'s new link`} />
        <button type="button" class="btn quiet small" onClick={() => setLink(null)}>
          Done
        </button>
      </div>
    );
  }

  if (stage === "closed") {
    return (
      <button type="button" class="btn quiet small" onClick={() => setStage("asking")}>
        New link<span class="sr-only"> for {name}</span>
      </button>
    );
  }

  const make = async () => {
    setStage("busy");
    setError(null);
    // The keys are checked before the old link is switched off: a console without them could not hand out a working one.
    if (encrypted && !(await partnerLinkWithKeys("x", token, partner, true))) {
      setStage("asking");
      setError("This console's link holds no keys for the session, so it cannot make a link that opens it.");
      return;
    }
    let body: unknown = null;
    let ok = false;
    try {
      const res = await fetch(`/api/sessions/${encodeURIComponent(view.id)}/links/${partner}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      });
      ok = res.ok;
      body = await res.json().catch(() => null);
    } catch {
      ok = false;
    }
    const bare = ok ? (body as { link?: unknown } | null)?.link : undefined;
    const made = typeof bare === "string" ? await partnerLinkWithKeys(bare, token, partner, encrypted) : null;
    if (!made) {
      setStage("asking");
      setError(reason(body) ?? `No new link could be made just now. ${name}'s current link still works.`);
      return;
    }
    setStage("closed");
    setLink(made);
  };

  return (
    <fieldset class="confirm partner-new-link" data-testid={`new-link-confirm-${partner}`}>
      <legend>Switch off {name}'s link?</legend>
      <p>
        The link {name} has now stops working at once, on every device it was opened on, and they leave the room until
        they open the new one. Do this if their link may have reached someone else.
      </p>
      <button type="button" class="btn danger small" disabled={stage === "busy"} onClick={make}>
        Switch it off and make a new one
      </button>
      <button type="button" class="btn quiet small" onClick={() => setStage("closed")}>
        Cancel
      </button>
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
