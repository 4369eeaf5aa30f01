/**
 * The closing reflection on the summary, for each partner on their own screen: how heard they felt (1-10), a
 * word, whether to keep the session in their space, and which typed lines to keep. Once both answered and both
 * said yes, this client composes the kept entry and saves it, encrypted, in the space this tab holds (its id is
 * derived from the session, so both partners saving it lands once) — or offers to create the space.
 */
import { useEffect, useId, useState } from "preact/hooks";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import { composeKept, SpaceClient, SpaceError } from "../../headless/space.ts";
import { CopyButton } from "../home/CopyButton.tsx";
import { ActionError, type Send, useAction } from "../room/Controls.tsx";
import { seatName } from "../room/words.ts";
import { storedSpaceLink, storeSpaceLink } from "./link.ts";
import "./space.css";

const WORD_MAX = 60;

function ReflectForm({ view, send }: { view: SessionView; send: Send }) {
  const { busy, error, run } = useAction(send);
  const [heard, setHeard] = useState<number | null>(null);
  const [word, setWord] = useState("");
  const [keep, setKeep] = useState<boolean | null>(null);
  const [lines, setLines] = useState<number[]>([]);
  const [missing, setMissing] = useState<string | null>(null);
  const ids = { word: useId(), heard: useId() };
  const other = seatName(view, view.you.seat === "a" ? "b" : "a");
  const typedLines = view.transcript.filter((t) => t.text && (t.seat === "a" || t.seat === "b"));
  const submit = async (e: Event) => {
    e.preventDefault();
    if (heard === null) return setMissing("Choose how heard you felt, from 1 to 10.");
    if (keep === null) return setMissing("Choose whether to keep this session in your space.");
    setMissing(null);
    await run({
      type: "reflect",
      heard,
      keep,
      ...(word.trim() ? { word: word.trim() } : {}),
      ...(keep && lines.length > 0 ? { lines } : {}),
    });
  };
  return (
    <form class="reflection" onSubmit={submit} aria-labelledby="reflect-heading" data-testid="reflect-form">
      <h3 id="reflect-heading">Before you go — just for you</h3>
      <p class="hint">{other} answers on their own screen. You'll see each other's answers at the same moment.</p>
      <fieldset>
        <legend id={ids.heard}>How heard did you feel today?</legend>
        <div class="heard-scale">
          {Array.from({ length: 10 }, (_, i) => i + 1).map((n) => (
            <label key={n} class={heard === n ? "selected" : ""}>
              <input type="radio" name="heard" value={n} checked={heard === n} onChange={() => setHeard(n)} />
              {n}
            </label>
          ))}
        </div>
        <p class="hint">1: not heard at all · 10: completely heard</p>
      </fieldset>
      <label for={ids.word}>One word for it (optional)</label>
      <input
        id={ids.word}
        type="text"
        autocomplete="off"
        maxLength={WORD_MAX}
        value={word}
        onInput={(e) => setWord(e.currentTarget.value)}
      />
      <fieldset class="keep-choice">
        <legend>Keep this session in your space?</legend>
        <label>
          <input type="radio" name="keep" checked={keep === true} onChange={() => setKeep(true)} />
          <span>Yes, keep it — it is kept only if {other} says yes too</span>
        </label>
        <label>
          <input type="radio" name="keep" checked={keep === false} onChange={() => setKeep(false)} />
          <span>No, let it go when the session expires</span>
        </label>
      </fieldset>
      {keep === true && typedLines.length > 0 && (
        <fieldset class="keep-lines">
          <legend>Lines to keep (optional)</legend>
          <p class="hint">Only the lines you both tick are kept.</p>
          {typedLines.map((t) => (
            <label key={t.v}>
              <input
                type="checkbox"
                checked={lines.includes(t.v)}
                onChange={(e) =>
                  setLines((list) => (e.currentTarget.checked ? [...list, t.v] : list.filter((v) => v !== t.v)))
                }
              />
              <span>
                <strong>{t.seat === view.you.seat ? "You" : seatName(view, t.seat)}:</strong> {t.text}
              </span>
            </label>
          ))}
        </fieldset>
      )}
      <ActionError text={missing ?? error} />
      <button type="submit" class="btn primary" disabled={busy}>
        Share my answer
      </button>
    </form>
  );
}

type SaveState =
  | { status: "saving" }
  | { status: "saved" }
  | { status: "none" }
  | { status: "created"; links: Record<Partner, string> }
  | { status: "failed"; message: string };

/** Both said keep: saves the kept entry in this tab's space, or offers to create one. */
function KeepInSpace({ view }: { view: SessionView }) {
  const [state, setState] = useState<SaveState>(() => (storedSpaceLink() ? { status: "saving" } : { status: "none" }));
  const me = view.you.seat as Partner;
  const other = seatName(view, me === "a" ? "b" : "a");
  const ids = { mine: useId(), theirs: useId() };
  const save = async (space: SpaceClient) => {
    const content = composeKept(view);
    if (!content) return;
    await space.saveSession(view.id, content);
  };
  useEffect(() => {
    const link = storedSpaceLink();
    if (!link) return;
    (async () => {
      try {
        await save(await SpaceClient.open(link));
        setState({ status: "saved" });
      } catch (err) {
        setState({ status: "failed", message: err instanceof SpaceError ? err.message : "It could not be saved." });
      }
    })();
    // Saved once per view of the decision; a repeat lands on the same entry id anyway.
  }, [view.id]);
  const create = async () => {
    setState({ status: "saving" });
    try {
      const names = { a: seatName(view, "a"), b: seatName(view, "b") };
      const created = await SpaceClient.create(location.origin, names);
      await save(created.space);
      storeSpaceLink(created.links[me]);
      setState({ status: "created", links: created.links });
    } catch (err) {
      setState({ status: "failed", message: err instanceof SpaceError ? err.message : "It could not be saved." });
    }
  };
  if (state.status === "saving") return <p role="status">Keeping it in your space…</p>;
  if (state.status === "saved") {
    return (
      <p role="status" data-testid="kept">
        Kept in your space, encrypted. <a href="/space">Open our space</a>
      </p>
    );
  }
  if (state.status === "failed") {
    return (
      <p class="action-error" role="alert">
        This session could not be kept: {state.message}
      </p>
    );
  }
  if (state.status === "created") {
    const mine = state.links[me];
    const theirs = state.links[me === "a" ? "b" : "a"];
    return (
      <div data-testid="kept">
        <p role="status">Kept in your new space, encrypted.</p>
        <label for={ids.mine}>Your link to the space</label>
        <p class="hint">Save it now (a bookmark works): it is your way back in.</p>
        <input id={ids.mine} class="link-input" type="text" readOnly value={mine} />
        <CopyButton text={mine} inputId={ids.mine} label="Your link to the space" />
        <label for={ids.theirs}>{other}'s link</label>
        <p class="hint">Send it to {other} privately.</p>
        <input id={ids.theirs} class="link-input" type="text" readOnly value={theirs} />
        <CopyButton text={theirs} inputId={ids.theirs} label={`${other}'s link`} />
        <p>
          <a href="/space">Open our space</a>
        </p>
      </div>
    );
  }
  // No space in this tab: the first partner creates it, so the couple does not end up with two.
  if (me === "a") {
    return (
      <div>
        <p>You don't have a space open in this window yet.</p>
        <button type="button" class="btn primary" onClick={create} data-testid="create-space">
          Create our space and keep this session
        </button>
        <p class="hint">
          It is encrypted on this device before it is saved; you'll get a link for {other} to send privately.
        </p>
      </div>
    );
  }
  return (
    <p class="hint">
      {seatName(view, "a")} can create your space from their screen and send you your link. If you already have one,
      open it first next time and start the session from there.
    </p>
  );
}

/** The closing reflection block of the summary (partners only). */
export function ClosingReflection({ view, send }: { view: SessionView; send: Send }) {
  const r = view.reflection;
  if (!r || (view.you.seat !== "a" && view.you.seat !== "b")) return null;
  const me = view.you.seat;
  const otherSeat: Partner = me === "a" ? "b" : "a";
  if (!r.yours) return <ReflectForm view={view} send={send} />;
  if (!r.revealed) {
    return (
      <section class="reflection" aria-labelledby="reflect-wait" data-testid="reflect-waiting">
        <h3 id="reflect-wait">Thank you</h3>
        <p role="status">
          Waiting for {seatName(view, otherSeat)} to answer. You'll both see how heard you each felt at the same time.
        </p>
      </section>
    );
  }
  const { heard } = r.revealed;
  return (
    <section class="reflection" aria-labelledby="reflect-done" data-testid="reflect-revealed">
      <h3 id="reflect-done">How heard you each felt today</h3>
      <ul>
        {([me, otherSeat] as Partner[]).map((p) => (
          <li key={p}>
            {p === me ? "You" : seatName(view, p)}: {heard[p].heard}/10{heard[p].word ? ` — "${heard[p].word}"` : ""}
          </li>
        ))}
      </ul>
      {r.revealed.keep ? (
        <KeepInSpace view={view} />
      ) : (
        <p data-testid="not-kept">Not kept: a session is kept only when you both choose to keep it.</p>
      )}
    </section>
  );
}
