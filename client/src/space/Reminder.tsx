/**
 * The opening of a session played from the couple's space: what they agreed last time, decrypted here from the
 * space this tab holds, with each partner's private "did it happen?" (your own answer only until both answered).
 * Nothing of it passes through the session: it is read from and written to the space alone.
 */
import { useEffect, useState } from "preact/hooks";
import type { Partner, SessionView } from "../../../shared/protocol.ts";
import type { AnswerContent } from "../../../shared/space-protocol.ts";
import { type AgreementStatus, SpaceClient, summarize } from "../../headless/space.ts";
import { formatWhen } from "./export.ts";
import { storedSpaceLink } from "./link.ts";
import "./space.css";

const LABEL: Record<AnswerContent["happened"], string> = { yes: "Yes", partly: "Partly", no: "Not yet" };

interface Loaded {
  client: SpaceClient;
  you: Partner;
  names: Record<Partner, string>;
  agreements: AgreementStatus[];
}

export function SpaceReminder({ view }: { view: SessionView }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [tick, setTick] = useState(0);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const link = storedSpaceLink();
    if (!link) return;
    let stale = false;
    (async () => {
      try {
        const client = await SpaceClient.open(link);
        const space = await client.load();
        const summary = await summarize(space, client.key);
        const last = [...summary.sessions].reverse().find((s) => s.content.agreements.length > 0);
        // The agreements of the latest kept session that made any (earlier ones are on the space page).
        const agreements = last ? summary.agreements.filter((a) => a.session === last.content) : [];
        if (!stale) setLoaded({ client, you: space.you, names: summary.names, agreements });
      } catch {
        // The reminder is a courtesy: a space that cannot be opened here never blocks the session.
      }
    })();
    return () => {
      stale = true;
    };
  }, [tick]);
  if (!loaded || loaded.agreements.length === 0) return null;
  const mine = view.you.seat === loaded.you;
  const partnerName = loaded.names[loaded.you === "a" ? "b" : "a"];
  const answer = async (ref: string, happened: AnswerContent["happened"]) => {
    try {
      setError(null);
      await loaded.client.answer(loaded.you, ref, happened);
      setTick((n) => n + 1);
    } catch {
      setError("Your answer could not be saved just now. You can answer later from your space.");
    }
  };
  return (
    <div class="space-reminder" data-testid="space-reminder">
      <h3>Last time, you agreed</h3>
      <ul class="space-agreements">
        {loaded.agreements.map((s) => (
          <li class="space-agreement" key={s.agreement.ref}>
            <p class="agreement-what">
              <strong>{s.agreement.what ?? s.agreement.exercise}</strong>
              {s.agreement.picked ? ` — ${s.agreement.picked}` : ""}
              {s.agreement.when ? ` — ${formatWhen(s.agreement.when)}` : ""}
            </p>
            {mine &&
              (s.yours ? (
                <p class="hint">
                  You said: {LABEL[s.yours]}.{" "}
                  {s.theirs ? `${partnerName} said: ${LABEL[s.theirs]}.` : `${partnerName} hasn't answered yet.`}
                </p>
              ) : (
                <fieldset class="happened">
                  <legend>Did it happen? Only you see your answer until {partnerName} answers too.</legend>
                  <div class="happened-options">
                    {(["yes", "partly", "no"] as const).map((h) => (
                      <button
                        key={h}
                        type="button"
                        class="btn secondary small"
                        onClick={() => answer(s.agreement.ref, h)}
                      >
                        {LABEL[h]}
                      </button>
                    ))}
                  </div>
                </fieldset>
              ))}
          </li>
        ))}
      </ul>
      {error && (
        <p class="action-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
