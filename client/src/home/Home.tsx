/** The home page: set up a session, then share each seat's private link (copy button and QR code). */
import { useEffect, useId, useRef, useState } from "preact/hooks";
import type { Channel, CreateSessionResponse, Mode } from "../../../shared/protocol.ts";
import { type ExerciseSummary, createSession, fetchExercises } from "../api.ts";
import { rememberBothPartners, tokenFromLink } from "../seats.ts";
import { rememberLinkKeys } from "../room/keys.ts";
import { CopyButton } from "./CopyButton.tsx";
import { QrCode } from "./Qr.tsx";

const NAME_MAX = 40;
const THERAPIST_NAME_MAX = 80;
const DEFAULT_AGENDA = ["check-in", "intentional-dialogue"];

interface Created {
  response: CreateSessionResponse;
  mode: Mode;
  names: { a: string; b: string };
}

function ChoiceGroup<T extends string>(props: {
  legend: string;
  name: string;
  value: T;
  onChange: (value: T) => void;
  choices: { value: T; label: string; hint: string }[];
}) {
  return (
    <fieldset class="choice-group cards">
      <legend>{props.legend}</legend>
      {props.choices.map((c) => (
        <label key={c.value} class={`card-choice${props.value === c.value ? " selected" : ""}`}>
          <input
            type="radio"
            name={props.name}
            value={c.value}
            checked={props.value === c.value}
            onChange={() => props.onChange(c.value)}
          />
          <span class="card-text">
            <span class="card-title">{c.label}</span>
            <span class="card-hint">{c.hint}</span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

/** A labelled one-line input that never offers autocomplete (names and keys are private to this session). */
function TextField(props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  type?: "text" | "password";
  maxLength?: number;
}) {
  const common = {
    id: props.id,
    autocomplete: "off",
    maxLength: props.maxLength,
    value: props.value,
    onInput: (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value),
  };
  // Preact types each input type separately, so the two kinds are spelled out rather than passed as a variable.
  return (
    <>
      <label for={props.id}>{props.label}</label>
      {props.type === "password" ? <input type="password" {...common} /> : <input type="text" {...common} />}
    </>
  );
}

function SetupForm({ onCreated }: { onCreated: (created: Created) => void }) {
  const [mode, setMode] = useState<Mode>("guided");
  const [channel, setChannel] = useState<Channel>("typed");
  const [catalogue, setCatalogue] = useState<ExerciseSummary[] | null>(null);
  const [catalogueError, setCatalogueError] = useState<string | null>(null);
  const [agenda, setAgenda] = useState<string[]>(DEFAULT_AGENDA);
  const [nameA, setNameA] = useState("");
  const [nameB, setNameB] = useState("");
  const [therapistKey, setTherapistKey] = useState("");
  const [therapistName, setTherapistName] = useState("");
  const [untimed, setUntimed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { a: useId(), b: useId(), key: useId(), therapist: useId() };

  useEffect(() => {
    fetchExercises()
      .then(setCatalogue)
      .catch(() => setCatalogueError("We couldn't load the exercises. Reload the page to try again."));
  }, []);

  const available = (catalogue ?? []).filter((e) => !e.modes || e.modes.includes(mode));
  const chosen = agenda.filter((id) => available.some((e) => e.id === id));
  const toggle = (id: string, on: boolean) =>
    setAgenda((list) => (on ? [...list.filter((x) => x !== id), id] : list.filter((x) => x !== id)));

  const submit = async (e: Event) => {
    e.preventDefault();
    if (chosen.length === 0) {
      setError("Pick at least one exercise.");
      return;
    }
    setBusy(true);
    setError(null);
    const names: { a?: string; b?: string } = {};
    if (nameA.trim()) names.a = nameA.trim();
    if (nameB.trim()) names.b = nameB.trim();
    try {
      const response = await createSession(
        {
          mode,
          channel,
          agenda: chosen,
          ...(names.a || names.b ? { names } : {}),
          ...(mode === "therapist" && therapistName.trim() ? { therapistName: therapistName.trim() } : {}),
          ...(untimed ? { timers: false } : {}),
        },
        mode === "therapist" && therapistKey.trim() ? therapistKey.trim() : undefined,
      );
      onCreated({ response, mode, names: { a: names.a ?? "Partner A", b: names.b ?? "Partner B" } });
    } catch (err) {
      setError(err instanceof Error ? err.message : "Something went wrong. Please try again.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="setup" onSubmit={submit} aria-labelledby="setup-heading">
      <h2 id="setup-heading">Set up a session</h2>
      <ChoiceGroup
        legend="Who guides the session?"
        name="mode"
        value={mode}
        onChange={setMode}
        choices={[
          { value: "guided", label: "Just the two of us", hint: "The page guides you step by step." },
          { value: "therapist", label: "With our therapist", hint: "Your therapist joins and leads the pace." },
        ]}
      />
      <ChoiceGroup
        legend="How will you talk?"
        name="channel"
        value={channel}
        onChange={setChannel}
        choices={[
          { value: "spoken", label: "Out loud", hint: "Together in a room or on a call; tap Done after each turn." },
          { value: "typed", label: "In writing", hint: "You type your turns here and both see them." },
        ]}
      />
      <fieldset class="choice-group agenda">
        <legend>What would you like to do?</legend>
        {catalogueError && <p class="action-error">{catalogueError}</p>}
        {!catalogue && !catalogueError && <p class="hint">Loading exercises…</p>}
        {available.map((e) => (
          <label key={e.id} class={`agenda-item${chosen.includes(e.id) ? " selected" : ""}`}>
            <input
              type="checkbox"
              value={e.id}
              checked={chosen.includes(e.id)}
              onChange={(ev) => toggle(e.id, (ev.currentTarget as HTMLInputElement).checked)}
            />
            <span class="card-text">
              <span class="card-title">{e.title}</span>
              <span class="card-hint">{untimed ? (e.untimedSummary ?? e.summary) : e.summary}</span>
            </span>
          </label>
        ))}
        {chosen.length > 1 && (
          <p class="hint">
            In this order: {chosen.map((id) => available.find((e) => e.id === id)?.title ?? id).join(", then ")}.
          </p>
        )}
      </fieldset>
      <label class={`card-choice timers-option${untimed ? " selected" : ""}`}>
        <input
          type="checkbox"
          name="no-timers"
          checked={untimed}
          onChange={(ev) => setUntimed((ev.currentTarget as HTMLInputElement).checked)}
        />
        <span class="card-text">
          <span class="card-title">No timers — take the time you need</span>
          <span class="card-hint">No step counts down; you move on when you're ready.</span>
        </span>
      </label>
      <fieldset class="names">
        <legend>Your first names (optional)</legend>
        <p class="hint">Only used to say whose turn it is. Leave them empty if you prefer.</p>
        <TextField id={ids.a} label="First partner" value={nameA} onInput={setNameA} maxLength={NAME_MAX} />
        <TextField id={ids.b} label="Second partner" value={nameB} onInput={setNameB} maxLength={NAME_MAX} />
      </fieldset>
      {mode === "therapist" && (
        <div class="field">
          <TextField
            id={ids.therapist}
            label="Your name, as the couple will see it (optional)"
            value={therapistName}
            onInput={setTherapistName}
            maxLength={THERAPIST_NAME_MAX}
          />
          <p class="hint">
            Partners read it while they wait for you to let them in. Left empty, they read “Your therapist”.
          </p>
          <TextField
            id={ids.key}
            label="Practice key (if your service gave you one)"
            type="password"
            value={therapistKey}
            onInput={setTherapistKey}
          />
          <p class="hint">
            Seeing couples regularly? <a href="/practice">Open your practice</a>: a waiting room link that stays the
            same, and your own exercises kept between sessions.
          </p>
        </div>
      )}
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="btn primary large" disabled={busy || !catalogue}>
        {busy ? "Creating…" : mode === "therapist" ? "Start a session" : "Create our session"}
      </button>
    </form>
  );
}

function LinkCard({
  title,
  who,
  link,
  qrLabel,
  openHere,
}: {
  title: string;
  who: string;
  link: string;
  qrLabel: string;
  /** Offered on the first card: the person who set up the session usually holds that seat. */
  openHere?: { label: string; hint: string };
}) {
  const inputId = useId();
  return (
    <li class="link-card">
      <h3>{title}</h3>
      <p>{who}</p>
      <label for={inputId} class="sr-only">
        {title}
      </label>
      <input
        id={inputId}
        class="link-input"
        type="text"
        readOnly
        value={link}
        onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
      />
      <CopyButton text={link} inputId={inputId} label={title} />
      <details class="qr-details">
        <summary>Show QR code</summary>
        <QrCode text={link} label={qrLabel} />
        <p class="hint">For someone in the same room: they scan it with their phone camera.</p>
      </details>
      {openHere && (
        <p class="open-here">
          <a href={link}>{openHere.label}</a> <span class="hint">{openHere.hint}</span>
        </p>
      )}
    </li>
  );
}

function ShareLinks({ created, onOneDevice }: { created: Created; onOneDevice: () => void }) {
  const { response, mode, names } = created;
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const expires = new Date(response.expiresAt).toLocaleString([], {
    weekday: "long",
    hour: "2-digit",
    minute: "2-digit",
  });
  return (
    <section class="share" aria-labelledby="share-heading">
      <h2 id="share-heading" tabIndex={-1} ref={headingRef}>
        Your session is ready
      </h2>
      <div class="privacy-note">
        <p>
          <strong>Each link opens one seat.</strong> Give each person only their own link, privately — in a direct
          message, not a group chat. Anyone who has a link can join as that person.
        </p>
        <p>The links stop working {expires}.</p>
      </div>
      <ul class="links">
        {mode === "therapist" && response.links.therapist && (
          <LinkCard
            title="Therapist's link"
            who="For the therapist only: it lets you admit the couple and lead the session."
            link={response.links.therapist}
            qrLabel="QR code for the therapist's link"
            openHere={{ label: "Open my console here", hint: "Send each partner their own link first." }}
          />
        )}
        <LinkCard
          title={`${names.a}'s link`}
          who={`For ${names.a} only. ${names.a} starts as the first speaker unless you choose otherwise.`}
          link={response.links.a}
          qrLabel={`QR code for ${names.a}'s link`}
          openHere={
            mode === "guided"
              ? { label: `I'm ${names.a} — open my seat here`, hint: `Send ${names.b} their link first.` }
              : undefined
          }
        />
        <LinkCard
          title={`${names.b}'s link`}
          who={`For ${names.b} only.`}
          link={response.links.b}
          qrLabel={`QR code for ${names.b}'s link`}
        />
      </ul>
      {mode === "guided" && (
        <div class="one-device">
          <h3>Sitting together with one phone or laptop?</h3>
          <p>Open both seats here. The page will tell you when to pass the device to the other person.</p>
          <button type="button" class="btn primary large" onClick={onOneDevice}>
            We're on one device — start here
          </button>
        </div>
      )}
    </section>
  );
}

/** The home page. `openRoom` switches to the room once this tab holds seat links. */
export function Home({ openRoom }: { openRoom: () => void }) {
  const [created, setCreated] = useState<Created | null>(null);
  const oneDevice = () => {
    if (!created) return;
    const a = tokenFromLink(created.response.links.a);
    const b = tokenFromLink(created.response.links.b);
    if (!a || !b) return;
    rememberLinkKeys(created.response.links.a);
    rememberLinkKeys(created.response.links.b);
    rememberBothPartners(created.response.id, a, b);
    openRoom();
  };
  return (
    <main class="home" id="main">
      <header class="intro-block">
        <h1>Attune</h1>
        <p class="lede">A calm space to take turns listening to each other — with or without your therapist.</p>
      </header>
      {created ? <ShareLinks created={created} onOneDevice={oneDevice} /> : <SetupForm onCreated={setCreated} />}
      {!created && (
        <section class="home-space" aria-labelledby="home-space-heading">
          <h2 id="home-space-heading">Between sessions</h2>
          <p>
            Keep the sessions you both choose, see how heard you've felt over time, and remember what you agreed — in a
            space only the two of you can read.
          </p>
          <a class="btn secondary" href="/space">
            Open our space
          </a>
        </section>
      )}
    </main>
  );
}
