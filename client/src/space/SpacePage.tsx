/**
 * The couple's own space (/space, opened from /space/<token>#<key>): decrypted here in the browser, never
 * readable by the server. It shows an invitation to a session your partner started, "Start our next session",
 * the agreements with a private "did it happen?", progress over sessions (chart and table), the sessions kept,
 * planned times (.ics), export (Markdown, JSON, print), your links, and erase with confirmation.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef, useState } from "preact/hooks";
import type { Channel, Partner } from "../../../shared/protocol.ts";
import type { AnswerContent } from "../../../shared/space-protocol.ts";
import {
  type AgreementStatus,
  type OpenedSpace,
  SpaceClient,
  SpaceError,
  type SpaceSummary,
  summarize,
} from "../../headless/space.ts";
import { createSession, type ExerciseSummary, fetchExercises } from "../api.ts";
import { CopyButton } from "../home/CopyButton.tsx";
import { ProgressChart } from "./Chart.tsx";
import { download, formatDate, formatWhen, spaceToJson, spaceToMarkdown, toIcs } from "./export.ts";
import { forgetSpaceLink, storedSpaceLink, storeSpaceLink } from "./link.ts";
import "./space.css";

const HAPPENED_LABEL: Record<AnswerContent["happened"], string> = { yes: "Yes", partly: "Partly", no: "Not yet" };
const other = (p: Partner): Partner => (p === "a" ? "b" : "a");

type Loaded = { client: SpaceClient; space: OpenedSpace; summary: SpaceSummary };

function errorText(err: unknown): string {
  if (err instanceof SpaceError) return err.message;
  return "Something went wrong. Please try again.";
}

/** Follows your partner's invitation, first noting in the space that it was used (it is then no longer offered). */
function joinInvite(e: Event, loaded: Loaded): void {
  const invite = loaded.summary.invite;
  if (!invite) return;
  e.preventDefault();
  const go = () => location.assign(invite.link);
  loaded.client.joined(invite.entryId).then(go, go);
}

/** A link shown in a read-only field with a copy button. */
function LinkField({ label, link, hint }: { label: string; link: string; hint: string }) {
  const id = useId();
  return (
    <div class="space-link">
      <label for={id}>{label}</label>
      <p class="hint">{hint}</p>
      <input
        id={id}
        class="link-input"
        type="text"
        readOnly
        value={link}
        onFocus={(e) => (e.currentTarget as HTMLInputElement).select()}
      />
      <CopyButton text={link} inputId={id} label={label} />
    </div>
  );
}

/** No space in this tab yet: create one (names stay encrypted inside it). */
function CreateSpace({ onOpened }: { onOpened: () => void }) {
  const [nameA, setNameA] = useState("");
  const [nameB, setNameB] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [links, setLinks] = useState<Record<Partner, string> | null>(null);
  const ids = { a: useId(), b: useId() };
  const names = { a: nameA.trim() || "Partner A", b: nameB.trim() || "Partner B" };
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await SpaceClient.create(location.origin, names);
      storeSpaceLink(created.links.a);
      setLinks(created.links);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  if (links) {
    return (
      <section class="space-panel" aria-labelledby="space-made">
        <h1 id="space-made">Your space is ready</h1>
        <div class="privacy-note">
          <p>
            <strong>Each of you has a private link.</strong> It is the only way in, and its last part is the key that
            locks what you keep: Attune's server cannot read it. Keep yours somewhere safe, like a bookmark or a private
            note.
          </p>
        </div>
        <LinkField
          label={`${names.a}'s link (yours)`}
          link={links.a}
          hint={`Save it now (a bookmark works). If you lose it, ${names.b} can make you a new one from their space.`}
        />
        <LinkField
          label={`${names.b}'s link`}
          link={links.b}
          hint={`Send it to ${names.b} privately, in a direct message.`}
        />
        <button type="button" class="btn primary large" onClick={onOpened}>
          Open our space
        </button>
      </section>
    );
  }
  return (
    <form class="space-panel" onSubmit={submit} aria-labelledby="space-create">
      <h1 id="space-create">Open your own space</h1>
      <p>
        A private place for the two of you between sessions: the sessions you both chose to keep, how heard you have
        felt over time, and what you agreed. No accounts — each of you gets a link.
      </p>
      <p class="hint">
        Everything in it is encrypted on your device before it is saved. It is erased after 90 days without a visit, or
        whenever one of you chooses.
      </p>
      <fieldset class="names">
        <legend>Your first names (optional)</legend>
        <label for={ids.a}>First partner (you)</label>
        <input
          id={ids.a}
          type="text"
          autocomplete="off"
          maxLength={40}
          value={nameA}
          onInput={(e) => setNameA(e.currentTarget.value)}
        />
        <label for={ids.b}>Second partner</label>
        <input
          id={ids.b}
          type="text"
          autocomplete="off"
          maxLength={40}
          value={nameB}
          onInput={(e) => setNameB(e.currentTarget.value)}
        />
      </fieldset>
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" class="btn primary large" disabled={busy}>
        {busy ? "Creating…" : "Create our space"}
      </button>
    </form>
  );
}

/** "Did it happen?" for one agreement: your own answer, and your partner's only once you both answered. */
function AgreementItem({
  status,
  loaded,
  onChanged,
}: {
  status: AgreementStatus;
  loaded: Loaded;
  onChanged: () => void;
}) {
  const { summary, space, client } = loaded;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const group = useId();
  const { agreement } = status;
  const partnerName = summary.names[other(space.you)];
  const answer = async (happened: AnswerContent["happened"]) => {
    setBusy(true);
    setError(null);
    try {
      await client.answer(space.you, agreement.ref, happened);
      onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const calendar = () => {
    if (!agreement.when) return;
    download(
      "attune-plan.ics",
      "text/calendar",
      toIcs({
        uid: agreement.ref.replace(/[^A-Za-z0-9_-]/g, "-"),
        title: agreement.what ?? agreement.exercise,
        description: `Agreed together in Attune (${agreement.exercise}).`,
        start: Date.parse(agreement.when),
        minutes: 60,
      }),
    );
  };
  return (
    <li class="space-agreement" data-testid="agreement">
      <p class="agreement-what">
        <strong>{agreement.what ?? agreement.exercise}</strong>
        {agreement.picked ? ` — ${agreement.picked}` : ""}
        {agreement.when ? ` — ${formatWhen(agreement.when)}` : ""}
      </p>
      <p class="hint">
        {agreement.exercise}, {formatDate(status.session.date)}
      </p>
      {status.yours ? (
        <p data-testid="answers">
          You said: <strong>{HAPPENED_LABEL[status.yours]}</strong>.{" "}
          {status.theirs ? (
            <>
              {partnerName} said: <strong>{HAPPENED_LABEL[status.theirs]}</strong>.
            </>
          ) : (
            `${partnerName} hasn't answered yet.`
          )}
        </p>
      ) : (
        <fieldset class="happened" disabled={busy}>
          <legend id={group}>Did it happen? Only you see your answer until {partnerName} answers too.</legend>
          <div class="happened-options">
            {(["yes", "partly", "no"] as const).map((h) => (
              <button key={h} type="button" class="btn secondary" onClick={() => answer(h)}>
                {HAPPENED_LABEL[h]}
              </button>
            ))}
          </div>
          {status.theirsSealed && (
            <p class="hint" data-testid="sealed">
              {partnerName} has answered. You'll see their answer once you give yours.
            </p>
          )}
        </fieldset>
      )}
      {agreement.when && (
        <button type="button" class="btn quiet small" onClick={calendar}>
          Add to calendar
        </button>
      )}
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/** "Start our next session": a guided session whose other seat link waits, encrypted, in the space. */
function NextSession({ loaded }: { loaded: Loaded }) {
  const { client, space, summary } = loaded;
  const [catalogue, setCatalogue] = useState<ExerciseSummary[] | null>(null);
  const [exercise, setExercise] = useState("intentional-dialogue");
  const [channel, setChannel] = useState<Channel>("spoken");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const selectId = useId();
  useEffect(() => {
    fetchExercises()
      .then((list) => setCatalogue(list.filter((e) => (!e.modes || e.modes.includes("guided")) && e.id !== "check-in")))
      .catch(() => setCatalogue([]));
  }, []);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const created = await createSession({
        mode: "guided",
        channel,
        // A check-in before and after, so the space can show how the session shifted things.
        agenda: ["check-in", exercise, "check-in"],
        names: summary.names,
      });
      const them = other(space.you);
      await client.invite({
        link: created.links[them],
        for: them,
        createdAt: Date.now(),
        expiresAt: created.expiresAt,
      });
      // This tab keeps the space link, so the session is saved here when you both choose to keep it.
      location.assign(created.links[space.you]);
    } catch (err) {
      setError(err instanceof Error ? err.message : "Something went wrong. Please try again.");
      setBusy(false);
    }
  };
  const partnerName = summary.names[other(space.you)];
  return (
    <section class="space-panel" aria-labelledby="next-heading">
      <h2 id="next-heading">Start our next session</h2>
      <p>
        {partnerName} will find a "Join the session" button when they open their own space link — nothing to copy or
        send.
      </p>
      <label for={selectId}>What would you like to do?</label>
      <select id={selectId} value={exercise} onChange={(e) => setExercise(e.currentTarget.value)}>
        {(catalogue ?? [{ id: "intentional-dialogue", title: "Intentional dialogue", summary: "" }]).map((e) => (
          <option key={e.id} value={e.id}>
            {e.title}
          </option>
        ))}
      </select>
      <p class="hint">It starts and ends with a short private check-in, so you can see how things shift.</p>
      <fieldset class="choice-inline">
        <legend>How will you talk?</legend>
        <label>
          <input
            type="radio"
            name="next-channel"
            checked={channel === "spoken"}
            onChange={() => setChannel("spoken")}
          />{" "}
          Out loud
        </label>
        <label>
          <input type="radio" name="next-channel" checked={channel === "typed"} onChange={() => setChannel("typed")} />{" "}
          In writing
        </label>
      </fieldset>
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
      <button type="button" class="btn primary large" disabled={busy} onClick={start}>
        {busy ? "Starting…" : "Start our next session"}
      </button>
    </section>
  );
}

function PlanTime({ loaded, onChanged }: { loaded: Loaded; onChanged: () => void }) {
  const [title, setTitle] = useState("Time together");
  const [when, setWhen] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { title: useId(), when: useId() };
  const save = async (e: Event) => {
    e.preventDefault();
    const at = Date.parse(when);
    if (!when || Number.isNaN(at)) {
      setError("Choose a day and a time.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await loaded.client.plan({
        title: title.trim() || "Time together",
        when: new Date(at).toISOString(),
        minutes: 60,
      });
      setWhen("");
      onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const plans = loaded.summary.plans;
  return (
    <section class="space-panel" aria-labelledby="plan-heading">
      <h2 id="plan-heading">Planned together</h2>
      {plans.length > 0 ? (
        <ul class="plain-list">
          {plans.map((p, i) => (
            <li key={`${p.when}-${i}`}>
              {p.title} — {formatWhen(p.when)}{" "}
              <button
                type="button"
                class="btn quiet small"
                onClick={() =>
                  download(
                    "attune-plan.ics",
                    "text/calendar",
                    toIcs({
                      uid: `plan-${Date.parse(p.when)}-${i}`,
                      title: p.title,
                      start: Date.parse(p.when),
                      minutes: p.minutes,
                    }),
                  )
                }
              >
                Add to calendar
              </button>
            </li>
          ))}
        </ul>
      ) : (
        <p class="hint">Nothing planned yet.</p>
      )}
      <form class="plan-form" onSubmit={save}>
        <label for={ids.title}>What</label>
        <input
          id={ids.title}
          type="text"
          maxLength={80}
          value={title}
          onInput={(e) => setTitle(e.currentTarget.value)}
        />
        <label for={ids.when}>When</label>
        <input id={ids.when} type="datetime-local" value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
        {error && (
          <p class="action-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn secondary" disabled={busy}>
          Save this plan
        </button>
      </form>
      <p class="hint">"Add to calendar" downloads a standard calendar file; nothing is sent to anyone.</p>
    </section>
  );
}

function Links({ loaded }: { loaded: Loaded }) {
  const { client, space, summary } = loaded;
  const [mine, setMine] = useState(client.link);
  const [theirs, setTheirs] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const partnerName = summary.names[other(space.you)];
  const reissueMine = async () => {
    try {
      const link = await client.reissue(space.you);
      storeSpaceLink(link);
      setMine(link);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const reissueTheirs = async () => {
    try {
      setTheirs(await client.reissue(other(space.you)));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="space-panel no-print" aria-labelledby="links-heading">
      <h2 id="links-heading">Your links</h2>
      <LinkField label="Your private link" link={mine} hint="Keep it safe: it opens this space as you." />
      <div class="button-row">
        <button type="button" class="btn quiet" onClick={reissueMine}>
          Replace my link
        </button>
        <button type="button" class="btn quiet" onClick={reissueTheirs}>
          Make a new link for {partnerName}
        </button>
      </div>
      <p class="hint">A replaced link stops working at once.</p>
      {theirs && (
        <LinkField
          label={`${partnerName}'s new link`}
          link={theirs}
          hint={`Send it to ${partnerName} privately. Their old link no longer works.`}
        />
      )}
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function Erase({ loaded, onErased }: { loaded: Loaded; onErased: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const partnerName = loaded.summary.names[other(loaded.space.you)];
  const erase = async () => {
    try {
      await loaded.client.erase();
      forgetSpaceLink();
      onErased();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section class="space-panel danger-zone no-print" aria-labelledby="erase-heading">
      <h2 id="erase-heading">Erase our space</h2>
      <p>This deletes everything in it, for both of you, at once. It cannot be undone.</p>
      {confirming ? (
        <div role="alertdialog" aria-labelledby="erase-confirm" class="confirm">
          <p id="erase-confirm">
            <strong>Erase everything now?</strong> {partnerName}'s link will stop working too. Export first if you want
            a copy.
          </p>
          <div class="button-row">
            <button type="button" class="btn danger" onClick={erase}>
              Yes, erase it for both of us
            </button>
            <button type="button" class="btn secondary" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </div>
        </div>
      ) : (
        <button type="button" class="btn danger" onClick={() => setConfirming(true)}>
          Erase our space…
        </button>
      )}
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function SpaceContents({ loaded, reload, onErased }: { loaded: Loaded; reload: () => void; onErased: () => void }) {
  const { space, summary } = loaded;
  const you = space.you;
  const them = other(you);
  const last = summary.sessions.at(-1)?.content;
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  // A printout shows the ratings table too (a closed <details> would print nothing).
  useEffect(() => {
    const open = () => {
      for (const d of document.querySelectorAll<HTMLDetailsElement>(".progress-table-wrap")) d.open = true;
    };
    window.addEventListener("beforeprint", open);
    return () => window.removeEventListener("beforeprint", open);
  }, []);
  const stamp = new Date().toISOString().slice(0, 10);
  return (
    <>
      <header class="space-head">
        <h1 tabIndex={-1} ref={headingRef}>
          Our space
        </h1>
        <p class="lede">
          {summary.names.a} &amp; {summary.names.b}
        </p>
        <p class="hint">
          Encrypted on your devices with the key in your links: Attune's server stores it without being able to read it.
        </p>
      </header>
      {space.unreadable > 0 && (
        <p class="action-error" role="alert" data-testid="unreadable">
          {space.unreadable === 1 ? "One entry" : `${space.unreadable} entries`} could not be opened: changed or damaged
          since they were saved. Nothing was overwritten; the rest is below.
        </p>
      )}
      {summary.invite && (
        <section class="space-panel invite" aria-labelledby="invite-heading" data-testid="invite">
          <h2 id="invite-heading">{summary.names[them]} started a session for you both</h2>
          <p>It's ready when you are. Your seat is waiting.</p>
          <a class="btn primary large" href={summary.invite.link} onClick={(e) => joinInvite(e, loaded)}>
            Join the session
          </a>
        </section>
      )}
      {last && (
        <section class="space-panel last-words" aria-labelledby="words-heading">
          <h2 id="words-heading">Last time, in a word</h2>
          <p class="hint">{formatDate(last.date)}</p>
          <ul class="plain-list" data-testid="last-words">
            {(["a", "b"] as const).map((p) => (
              <li key={p}>
                {summary.names[p]}: felt {last.partners[p].heard}/10 heard
                {last.partners[p].word ? <> — "{last.partners[p].word}"</> : null}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section class="space-panel" aria-labelledby="agreed-heading">
        <h2 id="agreed-heading">What you agreed</h2>
        {summary.agreements.length === 0 ? (
          <p class="hint">Agreements from the sessions you keep appear here.</p>
        ) : (
          <ul class="space-agreements">
            {[...summary.agreements].reverse().map((status) => (
              <AgreementItem key={status.agreement.ref} status={status} loaded={loaded} onChanged={reload} />
            ))}
          </ul>
        )}
      </section>
      <div class="no-print">
        <NextSession loaded={loaded} />
      </div>
      <section class="space-panel" aria-labelledby="progress-heading">
        <h2 id="progress-heading">How it's going</h2>
        <ProgressChart sessions={summary.sessions} names={summary.names} />
      </section>
      <section class="space-panel" aria-labelledby="kept-heading">
        <h2 id="kept-heading">Sessions kept</h2>
        {summary.sessions.length === 0 ? (
          <p class="hint">
            At the end of a session each of you is asked whether to keep it here. It is kept only if you both say yes.
          </p>
        ) : (
          <ol class="kept-list" data-testid="kept-sessions">
            {[...summary.sessions].reverse().map(({ entryId, content: s }) => (
              <li key={entryId} class="kept">
                <h3>{formatDate(s.date)}</h3>
                <p>{s.exercises.length > 0 ? s.exercises.join(", ") : "A conversation"}</p>
                <p class="hint">
                  {(["a", "b"] as const)
                    .map((p) => {
                      const r = s.partners[p];
                      return `${summary.names[p]} felt ${r.heard}/10 heard${r.word ? ` ("${r.word}")` : ""}`;
                    })
                    .join(" · ")}
                </p>
                {s.lines.length > 0 && (
                  <blockquote class="kept-lines">
                    {s.lines.map((l, i) => (
                      <p key={`${i}-${l.text}`}>
                        <strong>{l.by === "therapist" ? "Therapist" : summary.names[l.by]}:</strong> {l.text}
                      </p>
                    ))}
                  </blockquote>
                )}
              </li>
            ))}
          </ol>
        )}
      </section>
      <PlanTime loaded={loaded} onChanged={reload} />
      <section class="space-panel no-print" aria-labelledby="export-heading">
        <h2 id="export-heading">Take it with you</h2>
        <div class="button-row">
          <button
            type="button"
            class="btn secondary"
            onClick={() => download(`our-space-${stamp}.md`, "text/markdown", spaceToMarkdown(summary, you))}
          >
            Download as text (Markdown)
          </button>
          <button
            type="button"
            class="btn secondary"
            onClick={() => download(`our-space-${stamp}.json`, "application/json", spaceToJson(summary, you))}
          >
            Download as data (JSON)
          </button>
          <button type="button" class="btn secondary" onClick={() => window.print()}>
            Print
          </button>
        </div>
        <p class="hint">The files are made on this device from what you can see here.</p>
      </section>
      <Links loaded={loaded} />
      <Erase loaded={loaded} onErased={onErased} />
    </>
  );
}

/** The space page. */
export function SpacePage() {
  const [link, setLink] = useState<string | null>(() => storedSpaceLink());
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<{ code: string; message: string } | null>(null);
  const [erased, setErased] = useState(false);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!link) return;
    let stale = false;
    (async () => {
      try {
        const client = await SpaceClient.open(link);
        const space = await client.load();
        const summary = await summarize(space, client.key);
        if (!stale) {
          setLoaded({ client, space, summary });
          setError(null);
        }
      } catch (err) {
        if (!stale) setError({ code: err instanceof SpaceError ? err.code : "other", message: errorText(err) });
      }
    })();
    return () => {
      stale = true;
    };
  }, [link, tick]);

  let body: ComponentChildren;
  if (erased) {
    body = (
      <section class="space-panel" aria-labelledby="erased-heading">
        <h1 id="erased-heading">Your space is erased</h1>
        <p>Everything in it is gone, and both links have stopped working.</p>
        <a href="/">Back to Attune</a>
      </section>
    );
  } else if (!link) {
    body = <CreateSpace onOpened={() => setLink(storedSpaceLink())} />;
  } else if (error) {
    body = (
      <section class="space-panel" aria-labelledby="space-problem" data-testid="space-problem">
        <h1 id="space-problem">This space can't be opened</h1>
        <p role="alert">{error.message}</p>
        {error.code === "network" || error.code === "server" || error.code === "rate" ? (
          <button type="button" class="btn secondary" onClick={() => setTick((n) => n + 1)}>
            Try again
          </button>
        ) : (
          <p>
            <a
              href="/space"
              onClick={() => {
                forgetSpaceLink();
              }}
            >
              Forget this link in this tab
            </a>
          </p>
        )}
      </section>
    );
  } else if (!loaded) {
    body = (
      <p class="hint" role="status">
        Opening your space…
      </p>
    );
  } else {
    body = (
      <SpaceContents
        loaded={loaded}
        reload={() => setTick((n) => n + 1)}
        onErased={() => {
          setLoaded(null);
          setLink(null);
          setErased(true);
        }}
      />
    );
  }
  return (
    <main class="space" id="main" data-testid="space" data-ready={loaded ? "yes" : "no"}>
      {body}
    </main>
  );
}
