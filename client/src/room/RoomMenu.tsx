/**
 * The room menu: the links in people's hands. A partner can switch off their own link and get a fresh one (the old
 * one stops working at once, everywhere), and erase the whole session now, after a confirmation that says when it
 * would expire by itself. A slot at its end is left for other room tools (e.g. safety).
 */
import type { ComponentChildren } from "preact";
import { useEffect, useId, useState } from "preact/hooks";
import type { SessionView } from "../../../shared/protocol.ts";
import { CopyButton } from "../home/CopyButton.tsx";
import { forgetAll, forgetToken, storePending, tokenFromLink } from "../seats.ts";
import { readPrefs, type TurnSignalPrefs, writePrefs } from "./turn-signal.ts";
import { clockTime } from "./words.ts";
import { rememberLinkKeys, withKeysOf } from "./keys.ts";

const FRESH_LINK_KEY = "attune.fresh-link";

/** The session's automatic expiry, from the server's setting (hours after the last activity). */
export function useSessionTtlHours(): number | null {
  const [hours, setHours] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    fetch("/api/client-config", { headers: { accept: "application/json" } })
      .then((res) => (res.ok ? res.json() : null))
      .then((body: { sessionTtlHours?: number } | null) => {
        if (live && typeof body?.sessionTtlHours === "number") setHours(body.sessionTtlHours);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, []);
  return hours;
}

/** "by itself about 24 hours after the last activity, around 14:05 tomorrow" */
export function expiryWords(hours: number | null, now = Date.now()): string {
  if (hours === null) return "It is erased by itself a while after the last activity.";
  const at = now + hours * 3_600_000;
  const day = new Date(at).toDateString() === new Date(now).toDateString() ? "today" : "tomorrow";
  const when = hours <= 24 ? ` (around ${clockTime(at)} ${day}, if nothing more happens)` : "";
  return `Otherwise it is erased by itself ${hours} hour${hours === 1 ? "" : "s"} after the last activity${when}.`;
}

async function call(method: string, path: string, token: string): Promise<{ ok: boolean; body: unknown }> {
  try {
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    });
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    return { ok: res.ok, body };
  } catch {
    return { ok: false, body: null };
  }
}

function errorText(body: unknown, fallback: string): string {
  const message = (body as { error?: { message?: string } } | null)?.error?.message;
  return message ?? fallback;
}

/** Erase the session now, with a confirmation (the summary and the room menu both offer it). */
export function EraseSession({ view, token }: { view: SessionView; token: string }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const hours = useSessionTtlHours();
  const mayErase = view.mode === "guided" || view.you.seat === "therapist";
  if (!mayErase) {
    return <p class="hint">Your therapist can erase this session for you. {expiryWords(hours)}</p>;
  }
  if (!asking) {
    return (
      <div class="erase">
        <button type="button" class="btn quiet" onClick={() => setAsking(true)}>
          Erase this session now
        </button>
      </div>
    );
  }
  const erase = async () => {
    setBusy(true);
    setError(null);
    const result = await call("DELETE", `/api/sessions/${encodeURIComponent(view.id)}`, token);
    setBusy(false);
    if (!result.ok) {
      setError(errorText(result.body, "The session could not be erased just now. Please try again."));
      return;
    }
    forgetAll();
    location.assign("/room?erased=1");
  };
  return (
    <fieldset class="confirm erase" data-testid="erase-confirm">
      <legend>Erase this session for both of you?</legend>
      <p>
        Everything said and agreed here is deleted now, and both links stop working. This cannot be undone.{" "}
        {expiryWords(hours)}
      </p>
      <button type="button" class="btn danger" disabled={busy} onClick={erase}>
        Yes, erase it now
      </button>
      <button type="button" class="btn quiet" onClick={() => setAsking(false)}>
        Keep it
      </button>
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

/** Switch off this seat's link and get a fresh one: the page reopens on the new link and shows it once. */
function FreshLink({ view, token }: { view: SessionView; token: string }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const seat = view.you.seat;
  if (seat === "therapist") return null;
  if (view.mode === "therapist") {
    return (
      <p class="hint">
        If your link may have reached someone else, your therapist can switch it off and give you a fresh one.
      </p>
    );
  }
  if (!asking) {
    return (
      <button type="button" class="btn quiet" onClick={() => setAsking(true)}>
        Switch off my link and get a fresh one
      </button>
    );
  }
  const reissue = async () => {
    setBusy(true);
    setError(null);
    const result = await call("POST", `/api/sessions/${encodeURIComponent(view.id)}/links/${seat}`, token);
    const bare = (result.body as { link?: string } | null)?.link;
    // The server never sees the keys: this tab gives the fresh link the keys its old one carried.
    const link = bare ? withKeysOf(token, bare) : undefined;
    const fresh = link ? tokenFromLink(link) : null;
    if (!result.ok || !link || !fresh) {
      setBusy(false);
      setError(errorText(result.body, "No fresh link could be made just now. Your current link still works."));
      return;
    }
    try {
      sessionStorage.setItem(FRESH_LINK_KEY, link);
    } catch {
      // Without storage the new link cannot be shown after the reload; the room still opens with it.
    }
    rememberLinkKeys(link);
    forgetToken(token);
    storePending(fresh);
    location.reload();
  };
  return (
    <fieldset class="confirm" data-testid="fresh-link-confirm">
      <legend>Switch off your link?</legend>
      <p>
        The link you have now stops working at once, on every device it was opened on. You get a new one here; keep it
        private. Your partner's link is not changed.
      </p>
      <button type="button" class="btn danger" disabled={busy} onClick={reissue}>
        Yes, give me a fresh link
      </button>
      <button type="button" class="btn quiet" onClick={() => setAsking(false)}>
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

/** After a fresh link was made: shown once, with a copy button, until dismissed. */
export function FreshLinkNotice() {
  const [link, setLink] = useState<string | null>(() => {
    try {
      return sessionStorage.getItem(FRESH_LINK_KEY);
    } catch {
      return null;
    }
  });
  const inputId = useId();
  if (!link) return null;
  const dismiss = () => {
    try {
      sessionStorage.removeItem(FRESH_LINK_KEY);
    } catch {
      // nothing kept
    }
    setLink(null);
  };
  return (
    <section class="fresh-link notice" aria-labelledby={`${inputId}-h`} data-testid="fresh-link">
      <h2 id={`${inputId}-h`}>Your fresh link</h2>
      <p>Your old link is switched off. This one opens your seat from now on: keep it somewhere private.</p>
      <label for={inputId}>Your new link</label>
      <input id={inputId} type="text" readOnly value={link} />
      <CopyButton text={link} inputId={inputId} label="Your new link" />
      <button type="button" class="btn quiet small" onClick={dismiss}>
        Done
      </button>
    </section>
  );
}

/** The opt-in signals of a new turn while the page is hidden: vibration, a system notification. */
function TurnSignalSettings() {
  const [prefs, setPrefs] = useState<TurnSignalPrefs>(readPrefs);
  const [note, setNote] = useState<string | null>(null);
  const canVibrate = typeof navigator !== "undefined" && "vibrate" in navigator;
  const canNotify = typeof Notification !== "undefined";
  const update = (next: TurnSignalPrefs) => {
    setPrefs(next);
    writePrefs(next);
  };
  const toggleNotify = async (on: boolean) => {
    if (!on) return update({ ...prefs, notify: false });
    const answer = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
    if (answer === "granted") {
      setNote(null);
      update({ ...prefs, notify: true });
    } else {
      setNote("Notifications are blocked for this page in your browser's settings.");
    }
  };
  if (!canVibrate && !canNotify) return null;
  return (
    <fieldset class="choice-group turn-signals">
      <legend>When it's your turn and this page is hidden</legend>
      {canVibrate && (
        <label class="check">
          <input
            type="checkbox"
            checked={prefs.vibrate}
            onChange={(e) => update({ ...prefs, vibrate: (e.currentTarget as HTMLInputElement).checked })}
          />{" "}
          Vibrate
        </label>
      )}
      {canNotify && (
        <label class="check">
          <input
            type="checkbox"
            checked={prefs.notify}
            onChange={(e) => void toggleNotify((e.currentTarget as HTMLInputElement).checked)}
          />{" "}
          Show a notification (it names the step, never anyone's words)
        </label>
      )}
      {note && <p class="hint">{note}</p>}
    </fieldset>
  );
}

/** The room menu, folded away until opened. */
export function RoomMenu({
  view,
  token,
  children,
}: {
  view: SessionView;
  token: string | undefined;
  children?: ComponentChildren;
}) {
  if (!token || view.waiting) return null;
  return (
    <details class="room-menu" data-testid="room-menu">
      <summary>Room menu</summary>
      <div class="room-menu-body">
        <h2 class="sr-only">Room menu</h2>
        <section aria-label="Your turn">
          <TurnSignalSettings />
        </section>
        <section aria-label="Your link">
          <FreshLink view={view} token={token} />
        </section>
        <section aria-label="Erase">
          <EraseSession view={view} token={token} />
        </section>
        {/* Room tools of other features go here (e.g. safety). */}
        {children}
      </div>
    </details>
  );
}
