/**
 * A therapist's practice, and a practice's standing waiting room, in the browser.
 *   /practice/<token>  the therapist's private practice link; /practice alone opens a new practice with a key
 *   /wait/<token>      the standing room link couples are given
 * Like seat links, the token is taken out of the address bar before anything renders and kept in this tab only.
 */
import "./console.css";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import type { ExerciseDefinition } from "../../../shared/exercise-format.ts";
import { illFormedTextAt, LIMITS } from "../../../shared/protocol.ts";
import {
  generateWaitingKeyPair,
  keepPrivateKey,
  privacyCode,
  restorePrivateKey,
  unwrapSeatKeys,
  wrapSeatKeys,
} from "../../../shared/key-exchange.ts";
import {
  generateSessionKeys,
  hasConversationKey,
  keyFragmentFor,
  linksWithKeys,
  linkWithKeys,
  readKeyFragment,
  sealNames,
} from "../../../shared/session-crypto.ts";
import { CopyButton } from "../home/CopyButton.tsx";
import { storeLinkKeys } from "../room/keys.ts";
import { storePending } from "../seats.ts";
import { parseDefinition, type Problem } from "./CustomExercise.tsx";

const OWNER_KEY = "attune.practice";
const ROOM_KEY = "attune.standing-room";
const TICKET_KEY = "attune.waiting-ticket";
const POLL_MS = 2500;
/** The longest practice name the server keeps (PRACTICE_LIMITS.displayNameMax). */
export const DISPLAY_NAME_MAX = 80;

/** What is wrong with a practice name as typed, in words, or null when it can be saved. */
export function practiceNameProblem(typed: string): string | null {
  if (illFormedTextAt(typed)) {
    return "The name has a broken character in it (often from pasting). Please type it again.";
  }
  const name = typed.replace(/\s+/g, " ").trim();
  if (name.length === 0) return "Give your practice a name.";
  if (name.length > DISPLAY_NAME_MAX) {
    return `Keep the name to ${DISPLAY_NAME_MAX} characters or fewer (this one has ${name.length}).`;
  }
  return null;
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export type PracticeRoute = "practice" | "waiting";

/**
 * Takes a practice or standing-room token out of the address bar (kept in sessionStorage), and says which page
 * this is; null for every other page.
 */
export function takePracticeLink(): PracticeRoute | null {
  const m = /^\/(practice|wait|waiting)(?:\/([^/]+))?\/?$/.exec(location.pathname);
  if (!m) return null;
  const token = m[2] ? decodeURIComponent(m[2]) : null;
  if (m[1] === "practice") {
    if (token) storage()?.setItem(OWNER_KEY, token);
    if (token) history.replaceState(null, "", "/practice");
    return "practice";
  }
  if (token) {
    storage()?.setItem(ROOM_KEY, token);
    storage()?.removeItem(TICKET_KEY);
  }
  history.replaceState(null, "", "/waiting");
  return "waiting";
}

interface ApiFailure {
  message: string;
  problems?: Problem[];
}

async function call<T>(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<{ ok: true; value: T } | { ok: false; error: ApiFailure; status: number }> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    return { ok: false, status: 0, error: { message: "Couldn't reach the server. Check your connection." } };
  }
  const json = (await res.json().catch(() => ({}))) as { error?: ApiFailure } & T;
  if (!res.ok) {
    return {
      ok: false,
      status: res.status,
      error: json.error ?? { message: "Something went wrong. Please try again." },
    };
  }
  return { ok: true, value: json };
}

interface Overview {
  id: string;
  displayName: string;
  roomLink: string;
  exercises: ExerciseDefinition[];
  waiting: WaitingEntry[];
}

/** A partner on the waiting list, as the practice sees them. */
interface WaitingEntry {
  id: string;
  firstName: string;
  since: number;
  started: boolean;
  /** Their waiting page's public key, to wrap their session keys to; null for a page that sent none. */
  publicKey: string | null;
}

/** The privacy code of a waiting page's public key (shared/key-exchange.ts), once worked out; null until then. */
function usePrivacyCode(publicKey: string | null | undefined): string | null {
  const [code, setCode] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setCode(null);
    if (publicKey) {
      privacyCode(publicKey).then(
        (c) => live && setCode(c),
        () => {},
      );
    }
    return () => {
      live = false;
    };
  }, [publicKey]);
  return code;
}

/** One waiting partner's privacy code, shown under their name so the therapist can compare it with theirs. */
function WaitingCode({ publicKey }: { publicKey: string | null }) {
  const code = usePrivacyCode(publicKey);
  if (!publicKey) return <p class="hint waiting-code">No encryption key from this page.</p>;
  return code ? (
    <p class="hint waiting-code" data-testid="privacy-code">
      Privacy code <span class="code-digits">{code}</span>
    </p>
  ) : null;
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Opening a new practice with a practice key. */
function OpenPractice({ onOpened }: { onOpened: () => void }) {
  const [key, setKey] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [opened, setOpened] = useState<{ practice: string; room: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const keyId = useId();
  const nameId = useId();
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const out = await call<{ links: { practice: string; room: string } }>(
      "POST",
      "/api/practices",
      key.trim() || null,
      {
        displayName: name,
      },
    );
    setBusy(false);
    if (!out.ok) return setError(out.error.message);
    setOpened(out.value.links);
  };
  if (opened) {
    return (
      <section class="console-panel practice-opened" aria-labelledby="opened-heading">
        <h2 id="opened-heading">Your practice is open</h2>
        <p>
          Keep your <strong>practice link</strong> private, as you would a key: it opens your practice and your exercise
          library. Bookmark it or keep it in your password manager.
        </p>
        <p class="link-box" data-testid="practice-link">
          {opened.practice}
        </p>
        <p>
          Give your <strong>waiting room link</strong> to the couples you see. It stays the same from one appointment to
          the next.
        </p>
        <p class="link-box" data-testid="room-link">
          {opened.room}
        </p>
        <button
          type="button"
          class="btn primary"
          onClick={() => {
            storage()?.setItem(OWNER_KEY, decodeURIComponent(opened.practice.split("/").pop() ?? ""));
            onOpened();
          }}
        >
          Open my practice here
        </button>
      </section>
    );
  }
  return (
    <section class="console-panel" aria-labelledby="open-heading">
      <h2 id="open-heading">Open a practice</h2>
      <p class="hint">
        A practice keeps your exercise library and a waiting room link that stays the same for every appointment.
      </p>
      <form onSubmit={submit}>
        <label for={nameId}>Practice name, as couples will see it</label>
        <input
          id={nameId}
          value={name}
          maxLength={80}
          onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
        />
        <label for={keyId}>Practice key</label>
        <input
          id={keyId}
          type="password"
          autoComplete="off"
          value={key}
          onInput={(e) => setKey((e.currentTarget as HTMLInputElement).value)}
        />
        <p class="hint">The key your service administrator gave you.</p>
        <button type="submit" class="btn primary" disabled={busy || !name.trim()}>
          Open my practice
        </button>
      </form>
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** The practice's name as couples see it, with a control to rename it (checked here and again by the server). */
function PracticeName({ overview, token, reload }: { overview: Overview; token: string; reload: () => void }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState("");
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const errorId = useId();
  const input = useRef<HTMLInputElement>(null);
  const renameButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (editing) input.current?.focus();
  }, [editing]);
  const close = () => {
    setEditing(false);
    setError(null);
    // Focus goes back to the control that opened the form (rendered again on the next paint).
    requestAnimationFrame(() => renameButton.current?.focus());
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setStatus("");
    const problem = practiceNameProblem(text);
    if (problem) {
      setError(problem);
      input.current?.focus();
      return;
    }
    setBusy(true);
    const out = await call<{ displayName: string }>("PATCH", "/api/practice", token, { displayName: text });
    setBusy(false);
    if (!out.ok) {
      setError(out.error.message);
      input.current?.focus();
      return;
    }
    setStatus(`Renamed. Couples now see “${out.value.displayName}”.`);
    close();
    reload();
  };
  return (
    <div class="practice-name">
      <div class="practice-title-row">
        <h2 class="practice-title" data-testid="practice-name">
          {overview.displayName}
        </h2>
        {!editing && (
          <button
            type="button"
            class="btn quiet small"
            ref={renameButton}
            onClick={() => {
              setText(overview.displayName);
              setStatus("");
              setEditing(true);
            }}
          >
            Rename
          </button>
        )}
      </div>
      {editing && (
        <form class="rename-form" onSubmit={save} noValidate>
          <label for={inputId}>Practice name, as couples see it</label>
          <div class="rename-row">
            <input
              id={inputId}
              ref={input}
              type="text"
              value={text}
              autoComplete="off"
              aria-invalid={error !== null}
              aria-describedby={error ? errorId : undefined}
              onInput={(e) => {
                setText((e.currentTarget as HTMLInputElement).value);
                setError(null);
              }}
              onKeyDown={(e) => {
                if (e.key === "Escape") close();
              }}
            />
            <button type="submit" class="btn primary" disabled={busy}>
              Save the name
            </button>
            <button type="button" class="btn quiet" onClick={close}>
              Cancel
            </button>
          </div>
          {error && (
            <p id={errorId} class="action-error" role="alert">
              {error}
            </p>
          )}
        </form>
      )}
      <p role="status" class="sent-status">
        {status}
      </p>
    </div>
  );
}

/** The library: each exercise with edit and remove, and a box to add or edit one (per-path problems shown). */
function Library({ overview, token, reload }: { overview: Overview; token: string; reload: () => void }) {
  const [text, setText] = useState("");
  const [problems, setProblems] = useState<Problem[]>([]);
  const [status, setStatus] = useState("");
  const boxId = useId();
  const save = async (e: Event) => {
    e.preventDefault();
    setStatus("");
    const parsed = parseDefinition(text);
    if (!parsed.ok) return setProblems([parsed.problem]);
    const out = await call<{ title: string }>("POST", "/api/practice/exercises", token, { definition: parsed.value });
    if (!out.ok) {
      setProblems(out.error.problems ?? [{ path: "(root)", message: out.error.message }]);
      return;
    }
    setProblems([]);
    setText("");
    setStatus(`Saved “${out.value.title}” to your library.`);
    reload();
  };
  const remove = async (id: string, title: string) => {
    const out = await call("DELETE", `/api/practice/exercises/${encodeURIComponent(id)}`, token);
    setStatus(out.ok ? `Removed “${title}”.` : out.error.message);
    reload();
  };
  return (
    <section class="console-panel library" aria-labelledby="library-heading">
      <h2 id="library-heading">Exercise library</h2>
      <p class="hint">
        Your own exercises, kept from one session to the next. When you start a session, you choose which ones it loads.
      </p>
      {overview.exercises.length === 0 ? (
        <p class="hint">No exercises yet.</p>
      ) : (
        <ul class="library-list" data-testid="library">
          {overview.exercises.map((ex) => (
            <li key={ex.id}>
              <strong>{ex.title}</strong> <span class="hint">{ex.summary}</span>{" "}
              <button type="button" class="btn quiet small" onClick={() => setText(JSON.stringify(ex, null, 2))}>
                Edit {ex.title}
              </button>{" "}
              <button type="button" class="btn quiet small" onClick={() => void remove(ex.id, ex.title)}>
                Remove {ex.title}
              </button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={save}>
        <label for={boxId}>Exercise definition (JSON)</label>
        <textarea
          id={boxId}
          class="code"
          rows={6}
          spellcheck={false}
          value={text}
          aria-invalid={problems.length > 0}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
        />
        <button type="submit" class="btn secondary" disabled={!text.trim()}>
          Save to library
        </button>
      </form>
      {problems.length > 0 && (
        <div class="problems" role="alert">
          <p>Not saved. {problems.length === 1 ? "One thing to fix:" : `${problems.length} things to fix:`}</p>
          <ul data-testid="library-problems">
            {problems.map((p, i) => (
              <li key={i}>
                <code>{p.path}</code>: {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      <p role="status" class="sent-status">
        {status}
      </p>
    </section>
  );
}

/** Which library exercises a new session loads: all at first (up to the limit), then as the therapist ticks. */
function useLibraryChoice(library: ExerciseDefinition[]) {
  // null until the therapist changes the choice (then: the ids they left ticked).
  const [picked, setPicked] = useState<string[] | null>(null);
  const held = new Set(library.map((ex) => ex.id));
  const loading = (picked ?? library.slice(0, LIMITS.customExercisesMax).map((ex) => ex.id)).filter((id) =>
    held.has(id),
  );
  const full = loading.length >= LIMITS.customExercisesMax;
  const pick = (id: string) => setPicked(loading.includes(id) ? loading.filter((x) => x !== id) : [...loading, id]);
  return { library, loading, full, pick };
}

/** The checkboxes of the library exercises a new session loads (nothing when the library is empty). */
function LibraryChoice({ choice }: { choice: ReturnType<typeof useLibraryChoice> }) {
  const { library, loading, full, pick } = choice;
  if (library.length === 0) return null;
  return (
    <fieldset class="plain library-choice">
      <legend>Exercises from your library for this session</legend>
      <p class="hint">
        Up to {LIMITS.customExercisesMax}; the catalogue's exercises are always there.
        {full && library.length > LIMITS.customExercisesMax ? " Untick one to choose another." : ""}
      </p>
      <ul class="waiting-people" data-testid="library-choice">
        {library.map((ex) => {
          const on = loading.includes(ex.id);
          return (
            <li key={ex.id}>
              <label>
                <input type="checkbox" checked={on} disabled={!on && full} onChange={() => pick(ex.id)} /> {ex.title}
              </label>
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}

/** Spoken or typed, as chips. */
function ChannelChoice({
  channel,
  onChange,
}: {
  channel: "spoken" | "typed";
  onChange: (c: "spoken" | "typed") => void;
}) {
  const name = useId();
  return (
    <fieldset class="choice-group">
      <legend>How will they take part?</legend>
      <div class="chips">
        {(["spoken", "typed"] as const).map((c) => (
          <label key={c} class={`chip${channel === c ? " selected" : ""}`}>
            <input type="radio" name={name} checked={channel === c} onChange={() => onChange(c)} />
            <span>{c === "spoken" ? "Talking aloud" : "Typing"}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** One partner's link, read-only and selectable, with a copy button. */
function PartnerLink({ name, link, testId }: { name: string; link: string; testId: string }) {
  const id = useId();
  return (
    <div class="partner-link">
      <label for={id} class="link-label">
        {name}'s link
      </label>
      <input
        id={id}
        class="link-input"
        type="text"
        readOnly
        value={link}
        data-testid={testId}
        onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
      />
      <CopyButton text={link} inputId={id} label={`${name}'s link`} />
    </div>
  );
}

/**
 * For a couple who did not come through the waiting room link: a session with a link for each partner, the
 * practice's name in its waiting room and the chosen library exercises loaded; the therapist admits them.
 */
function StartWithLinks({ overview, token }: { overview: Overview; token: string }) {
  const [nameA, setNameA] = useState("");
  const [nameB, setNameB] = useState("");
  const [channel, setChannel] = useState<"spoken" | "typed">("spoken");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ a: string; b: string; therapist: string; names: [string, string] } | null>(
    null,
  );
  const choice = useLibraryChoice(overview.exercises);
  const ids = { a: useId(), b: useId() };
  const start = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const names: { a?: string; b?: string } = {};
    if (nameA.trim()) names.a = nameA.trim();
    if (nameB.trim()) names.b = nameB.trim();
    // A typed session is end-to-end encrypted: the keys are made here and only ever travel in the links.
    const keys = channel === "typed" ? await generateSessionKeys().catch(() => null) : null;
    if (channel === "typed" && !keys) {
      setBusy(false);
      return setError("This browser cannot encrypt the session. Open Attune over https in a current browser.");
    }
    const sent = keys && (names.a || names.b) ? await sealNames(keys, names) : names;
    const out = await call<{ links: { a: string; b: string; therapist: string } }>(
      "POST",
      "/api/practice/sessions/with-links",
      token,
      {
        channel,
        exercises: choice.loading,
        ...(names.a || names.b ? { names: sent } : {}),
        ...(keys ? { encrypted: true } : {}),
      },
    );
    setBusy(false);
    if (!out.ok) return setError(out.error.message);
    const links = keys ? linksWithKeys(out.value.links, keys, "therapist") : out.value.links;
    setCreated({ ...links, names: [names.a ?? "The first partner", names.b ?? "The second partner"] });
  };
  return (
    <section class="console-panel start-with-links" aria-labelledby="with-links-heading">
      <h2 id="with-links-heading">Start a session with links</h2>
      {created ? (
        <div class="started" role="status">
          <p>The session is ready. Give each partner their own link; they wait until you let them in.</p>
          <PartnerLink name={created.names[0]} link={created.a} testId="link-a" />
          <PartnerLink name={created.names[1]} link={created.b} testId="link-b" />
          <a class="btn primary" href={created.therapist}>
            Open my console here
          </a>{" "}
          <button type="button" class="btn quiet" onClick={() => setCreated(null)}>
            Start another
          </button>
        </div>
      ) : (
        <form onSubmit={start}>
          <p class="hint">For a couple who did not come through your waiting room link: each partner gets a link.</p>
          <label for={ids.a}>First partner's first name (optional)</label>
          <input
            id={ids.a}
            type="text"
            autoComplete="off"
            maxLength={LIMITS.nameMax}
            value={nameA}
            onInput={(e) => setNameA((e.currentTarget as HTMLInputElement).value)}
          />
          <label for={ids.b}>Second partner's first name (optional)</label>
          <input
            id={ids.b}
            type="text"
            autoComplete="off"
            maxLength={LIMITS.nameMax}
            value={nameB}
            onInput={(e) => setNameB((e.currentTarget as HTMLInputElement).value)}
          />
          <ChannelChoice channel={channel} onChange={setChannel} />
          <LibraryChoice choice={choice} />
          <button type="submit" class="btn primary" disabled={busy}>
            Start a session with links
          </button>
        </form>
      )}
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** The words for partners whose waiting page sent no key: their typed session cannot be encrypted. */
function keylessWords(names: string[], started: boolean): string {
  const who = names.join(" and ");
  const pages = names.length === 1 ? `${who}'s waiting page` : `${who}'s waiting pages`;
  return started
    ? `${pages} couldn't receive encryption keys, so this typed session is not end-to-end encrypted.`
    : `${pages} can't receive encryption keys, so a typed session with them won't be end-to-end encrypted.`;
}

/**
 * What the console sends to start a session from the waiting list. A typed session is end-to-end encrypted, as on the
 * home page, when both partners' pages sent a public key: the keys are made here, the names sealed, and each
 * partner's keys wrapped to their own page (shared/key-exchange.ts); the therapist's keys go into their link only.
 */
async function startRequest(
  pair: [WaitingEntry, WaitingEntry],
  channel: "spoken" | "typed",
  exercises: string[],
): Promise<
  | { ok: true; body: Record<string, unknown>; keys: Awaited<ReturnType<typeof generateSessionKeys>> | null }
  | { ok: false; message: string }
> {
  const [a, b] = pair;
  const base = { a: a.id, b: b.id, channel, exercises };
  if (channel !== "typed") return { ok: true, body: base, keys: null };
  if (!a.publicKey || !b.publicKey) return { ok: true, body: { ...base, encrypted: false }, keys: null };
  const keys = await generateSessionKeys().catch(() => null);
  if (!keys) {
    return {
      ok: false,
      message: "This browser cannot encrypt the session. Open Attune over https in a current browser.",
    };
  }
  const wrappedKeys: Record<"a" | "b", string> = { a: "", b: "" };
  for (const [seat, w] of [
    ["a", a],
    ["b", b],
  ] as const) {
    try {
      wrappedKeys[seat] = await wrapSeatKeys(w.publicKey!, keyFragmentFor(keys, seat, "therapist"), {
        waitingId: w.id,
        seat,
      });
    } catch {
      return {
        ok: false,
        message: `${w.firstName}'s waiting page sent a key that doesn't work. Ask ${w.firstName} to open the waiting room link again.`,
      };
    }
  }
  const names = await sealNames(keys, { a: a.firstName, b: b.firstName });
  return { ok: true, body: { ...base, encrypted: true, names, wrappedKeys }, keys };
}

/** Who is waiting at the standing link; choose two and start their session. */
function WaitingList({ overview, token, reload }: { overview: Overview; token: string; reload: () => void }) {
  const [chosen, setChosen] = useState<string[]>([]);
  const [channel, setChannel] = useState<"spoken" | "typed">("spoken");
  const [error, setError] = useState<string | null>(null);
  const [started, setStarted] = useState<{ link: string; names: string; unencrypted: string | null } | null>(null);
  const [busy, setBusy] = useState(false);
  const choice = useLibraryChoice(overview.exercises);
  const loading = choice.loading;
  const waiting = overview.waiting.filter((w) => !w.started);
  const pair = chosen.map((id) => waiting.find((w) => w.id === id)).filter((w): w is WaitingEntry => w !== undefined);
  const keyless = pair.filter((w) => !w.publicKey).map((w) => w.firstName);
  const toggle = (id: string) => setChosen((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id].slice(-2)));
  const start = async () => {
    const [a, b] = pair;
    if (!a || !b) return;
    setBusy(true);
    setError(null);
    const request = await startRequest([a, b], channel, loading);
    if (!request.ok) {
      setBusy(false);
      return setError(request.message);
    }
    const out = await call<{ links: { therapist: string } }>("POST", "/api/practice/sessions", token, request.body);
    setBusy(false);
    if (!out.ok) return setError(out.error.message);
    const link = request.keys
      ? linkWithKeys(out.value.links.therapist, request.keys, "therapist", "therapist")
      : out.value.links.therapist;
    setStarted({
      link,
      names: `${a.firstName} and ${b.firstName}`,
      unencrypted: channel === "typed" && !request.keys ? keylessWords(keyless, true) : null,
    });
    setChosen([]);
    reload();
  };
  return (
    <section class="console-panel waiting-list" aria-labelledby="waiting-heading">
      <h2 id="waiting-heading">Waiting room</h2>
      {started && (
        <div class="started" role="status">
          <p>{started.names} are in their session. They were let in as soon as you started it.</p>
          {started.unencrypted && <p data-testid="started-unencrypted">{started.unencrypted}</p>}
          <a class="btn primary" href={started.link}>
            Open my console here
          </a>
        </div>
      )}
      {waiting.length === 0 ? (
        <p class="hint">
          Nobody is waiting. Partners who open your waiting room link appear here with their first name.
        </p>
      ) : (
        <>
          <fieldset class="plain">
            <legend>Choose the two partners to see together</legend>
            <ul class="waiting-people" data-testid="waiting">
              {waiting.map((w) => (
                <li key={w.id}>
                  <label>
                    <input type="checkbox" checked={chosen.includes(w.id)} onChange={() => toggle(w.id)} />{" "}
                    <strong>{w.firstName}</strong> <span class="hint">waiting since {clock(w.since)}</span>
                  </label>
                  <WaitingCode publicKey={w.publicKey} />
                </li>
              ))}
            </ul>
            {waiting.some((w) => w.publicKey) && (
              <p class="hint">
                Each partner's waiting page shows a privacy code. If a partner reads out the code you see beside their
                name, the keys you send reach their page and no one else's.
              </p>
            )}
          </fieldset>
          <ChannelChoice channel={channel} onChange={setChannel} />
          {channel === "typed" && keyless.length > 0 && (
            <p class="hint" data-testid="keyless-warning">
              {keylessWords(keyless, false)} Opening the waiting room link again in a current browser fixes this.
            </p>
          )}
          <LibraryChoice choice={choice} />
          <button type="button" class="btn primary" disabled={busy || chosen.length !== 2} onClick={() => void start()}>
            Start a session
          </button>
          {chosen.length !== 2 && <p class="hint">Choose two partners.</p>}
        </>
      )}
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** The practice page. */
export function PracticePage() {
  const [token, setToken] = useState(() => storage()?.getItem(OWNER_KEY) ?? null);
  const [overview, setOverview] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [copied, setCopied] = useState("");
  const reload = () => setTick((t) => t + 1);
  useEffect(() => {
    if (!token) return;
    let live = true;
    const load = async () => {
      const out = await call<Overview>("GET", "/api/practice", token);
      if (!live) return;
      if (out.ok) {
        setOverview(out.value);
        setError(null);
      } else setError(out.error.message);
    };
    void load();
    const id = setInterval(() => void load(), POLL_MS);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, [token, tick]);
  if (!token) return <OpenPractice onOpened={() => setToken(storage()?.getItem(OWNER_KEY) ?? null)} />;
  if (!overview) {
    return error ? (
      <section class="notice-panel" role="alert">
        <h2>We couldn't open your practice</h2>
        <p>{error}</p>
      </section>
    ) : (
      <p class="joining" role="status">
        Opening your practice…
      </p>
    );
  }
  const changeLink = async () => {
    const out = await call<{ roomLink: string }>("POST", "/api/practice/room-link", token);
    setCopied(out.ok ? "A new waiting room link is ready; the old one no longer works." : out.error.message);
    reload();
  };
  return (
    <div class="practice" data-testid="practice">
      <PracticeName overview={overview} token={token} reload={reload} />
      <div class="practice-grid">
        <div>
          <WaitingList overview={overview} token={token} reload={reload} />
          <section class="console-panel" aria-labelledby="room-link-heading">
            <h2 id="room-link-heading">Your waiting room link</h2>
            <p class="hint">Give it to couples; it stays the same for every appointment.</p>
            <p class="link-box" data-testid="standing-link">
              {overview.roomLink}
            </p>
            <button
              type="button"
              class="btn secondary"
              onClick={() => {
                void navigator.clipboard?.writeText(overview.roomLink).then(
                  () => setCopied("Copied."),
                  () => setCopied("Select the link above to copy it."),
                );
              }}
            >
              Copy the link
            </button>{" "}
            <button type="button" class="btn quiet" onClick={() => void changeLink()}>
              Change the link
            </button>
            <p role="status" class="sent-status">
              {copied}
            </p>
          </section>
          <StartWithLinks overview={overview} token={token} />
        </div>
        <Library overview={overview} token={token} reload={reload} />
      </div>
    </div>
  );
}

/**
 * A waiting place as this tab keeps it (sessionStorage, gone with the tab): the ticket, the waiting place's id, and
 * the page's key pair for the key exchange (the private key as a JWK; shared/key-exchange.ts). Never sent anywhere
 * but the ticket (to ask) and the public key (once, when starting to wait).
 */
interface WaitingPlace {
  ticket: string;
  waitingId?: string;
  publicKey?: string;
  privateKey?: JsonWebKey;
}

function loadPlace(): WaitingPlace | null {
  const raw = storage()?.getItem(TICKET_KEY);
  if (!raw) return null;
  try {
    const place = JSON.parse(raw) as WaitingPlace;
    if (place && typeof place.ticket === "string") return place;
  } catch {
    // A ticket kept by an earlier version of this page, as a bare string: it waits on, without a key.
  }
  return raw.startsWith("w.") ? { ticket: raw } : null;
}

function keepPlace(place: WaitingPlace): void {
  storage()?.setItem(TICKET_KEY, JSON.stringify(place));
}

/** What the page says when a started session's keys did not open here; it does not enter a room it cannot read. */
function keysProblemWords(practiceName: string | null): string {
  const who = practiceName ?? "your therapist";
  return `Your session has started, but this page couldn't open the keys that keep it private, so it hasn't taken you in. Please let ${who} know, then add your name below to wait again.`;
}

/**
 * The keys of a started session, opened with this page's private key: the seat's key fragment (as a link would
 * carry it), or null when they do not open here or hold no conversation key.
 */
async function openSeatKeys(place: WaitingPlace, seat: "a" | "b", wrapped: string): Promise<string | null> {
  if (!place.privateKey || !place.publicKey || !place.waitingId) return null;
  try {
    const privateKey = await restorePrivateKey(place.privateKey);
    const fragment = await unwrapSeatKeys({ privateKey, publicKey: place.publicKey }, wrapped, {
      waitingId: place.waitingId,
      seat,
    });
    return hasConversationKey(await readKeyFragment(fragment)) ? fragment : null;
  } catch {
    return null;
  }
}

/** A key pair for this waiting page, or null when this browser cannot make one (it then waits without a key). */
async function newKeyPair(): Promise<{ publicKey: string; privateKey: JsonWebKey } | null> {
  try {
    const pair = await generateWaitingKeyPair();
    return { publicKey: pair.publicKey, privateKey: await keepPrivateKey(pair.privateKey) };
  } catch {
    return null;
  }
}

type TicketAnswer =
  | { status: "waiting"; practiceName: string }
  | { status: "started"; token: string; seat: "a" | "b"; wrappedKeys?: string };

/** The standing waiting room, as a partner sees it: a first name, then a calm wait until the session starts. */
export function StandingWaitPage() {
  const room = storage()?.getItem(ROOM_KEY) ?? null;
  const [place, setPlace] = useState<WaitingPlace | null>(loadPlace);
  const [practiceName, setPracticeName] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const nameId = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const code = usePrivacyCode(place?.publicKey);
  const ticket = place?.ticket ?? null;
  // The poll below outlives renders: it reads the practice's name as it is now, not as it was when polling began.
  const nameNow = useRef(practiceName);
  nameNow.current = practiceName;
  useEffect(() => {
    if (!room) return;
    void call<{ practiceName: string }>("GET", "/api/standing-room", room).then((out) => {
      if (out.ok) setPracticeName(out.value.practiceName);
      else setError(out.error.message);
    });
  }, [room]);
  useEffect(() => {
    if (!place) return;
    heading.current?.focus();
    let live = true;
    // One ask at a time: a slow answer must not be overtaken by the next poll's (the seat is handed out once).
    let asking = false;
    const check = async () => {
      if (asking) return;
      asking = true;
      const out = await call<TicketAnswer>("GET", "/api/standing-room/ticket", place.ticket).finally(() => {
        asking = false;
      });
      if (!live) return;
      if (!out.ok) {
        storage()?.removeItem(TICKET_KEY);
        setPlace(null);
        setError(out.error.message);
        return;
      }
      if (out.value.status === "started") {
        // The answer comes once: from here on this page either enters the room with its keys, or says why not.
        live = false;
        const { token, seat, wrappedKeys } = out.value;
        storage()?.removeItem(TICKET_KEY);
        if (wrappedKeys !== undefined) {
          const fragment = await openSeatKeys(place, seat, wrappedKeys);
          if (!fragment) {
            setPlace(null);
            setError(keysProblemWords(nameNow.current));
            return;
          }
          storeLinkKeys(token, fragment);
        }
        storePending(token);
        location.replace("/room");
        return;
      }
      setPracticeName(out.value.practiceName);
    };
    void check();
    const id = setInterval(() => void check(), POLL_MS);
    return () => {
      live = false;
      clearInterval(id);
    };
  }, [ticket]);
  if (!room) {
    return (
      <section class="notice-panel">
        <h2>No waiting room open here</h2>
        <p>Open the waiting room link your therapist gave you.</p>
      </section>
    );
  }
  const join = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    // The key pair is made here, before waiting: its private half never leaves this tab.
    const pair = await newKeyPair();
    const out = await call<{ ticket: string; waitingId: string; practiceName: string }>(
      "POST",
      "/api/standing-room/wait",
      room,
      { firstName: name, ...(pair ? { publicKey: pair.publicKey } : {}) },
    );
    setBusy(false);
    if (!out.ok) return setError(out.error.message);
    const kept: WaitingPlace = { ticket: out.value.ticket, waitingId: out.value.waitingId, ...(pair ?? {}) };
    keepPlace(kept);
    setPracticeName(out.value.practiceName);
    setError(null);
    setPlace(kept);
  };
  if (place) {
    return (
      <section class="waiting" aria-labelledby="standing-waiting-heading" data-testid="standing-waiting">
        <h2 id="standing-waiting-heading" tabIndex={-1} ref={heading}>
          You're in the waiting room
        </h2>
        <p>
          {practiceName ?? "Your therapist"} will start your session shortly. You can leave this page open; it will
          change by itself.
        </p>
        {code && (
          <div class="privacy-check">
            <p data-testid="privacy-code">
              Your privacy code: <span class="code-digits">{code}</span>
            </p>
            <p class="hint">
              If {practiceName ?? "your therapist"} asks, read it out. When their screen shows the same code, the keys
              that keep your session private come to this page and nowhere else.
            </p>
          </div>
        )}
      </section>
    );
  }
  return (
    <section class="waiting" aria-labelledby="standing-heading">
      <h2 id="standing-heading">{practiceName ? `Welcome to ${practiceName}` : "Welcome"}</h2>
      <p>Let your therapist know you're here. Only your first name is needed, and it is forgotten after the session.</p>
      <form onSubmit={join}>
        <label for={nameId}>Your first name</label>
        <input
          id={nameId}
          value={name}
          maxLength={40}
          autoComplete="given-name"
          onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit" class="btn primary" disabled={busy || !name.trim()}>
          I'm here
        </button>
      </form>
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
