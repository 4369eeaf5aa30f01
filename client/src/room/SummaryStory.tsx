/**
 * The summary as a reflection, not a scorecard: how each exercise ended (finished, stopped, or put off to an agreed
 * time), a line that stood out for each partner, the check-ins side by side, and what was agreed. Never a count.
 */
import type { Partner, SessionView, TranscriptEntry } from "../../../shared/protocol.ts";
import { AgreementList } from "./kinds/Agreements.tsx";
import { isCheckIn } from "./kinds/Ideas.tsx";
import { CheckInReveal } from "./Lobby.tsx";
import { seatName } from "./words.ts";

/** How one completed exercise ended, in a few words. */
export function outcomeNote(outcome: SessionView["completed"][number]["outcome"]): string {
  if (outcome === "postponed") return " (put off to an agreed time)";
  if (outcome === "stopped") return " (stopped early)";
  return "";
}

/** The longest thing each partner wrote: a gentle pointer to what stood out, in their own words. */
export function standOut(view: SessionView): { by: Partner; entry: TranscriptEntry }[] {
  const out: { by: Partner; entry: TranscriptEntry }[] = [];
  for (const p of ["a", "b"] as Partner[]) {
    const said = view.transcript.filter((e) => e.seat === p && e.kind === "say" && e.text !== undefined);
    const longest = said.reduce<TranscriptEntry | undefined>(
      (best, e) => ((e.text?.length ?? 0) > (best?.text?.length ?? 0) ? e : best),
      undefined,
    );
    if (longest) out.push({ by: p, entry: longest });
  }
  return out;
}

export function SessionStory({ view }: { view: SessionView }) {
  const checkIns = view.checkIns.filter(isCheckIn);
  const first = checkIns[0];
  const last = checkIns.length > 1 ? checkIns.at(-1) : undefined;
  const lines = standOut(view);
  return (
    <div class="session-story" data-testid="session-story">
      {view.completed.length === 0 ? (
        <p>You didn't finish an exercise this time, and that's all right.</p>
      ) : (
        <ol class="done-list">
          {view.completed.map((c) => (
            <li key={`${c.exerciseId}-${c.at}`}>
              {c.title}
              {outcomeNote(c.outcome)}
            </li>
          ))}
        </ol>
      )}
      <AgreementList view={view} title="What you agreed, and when" />
      {lines.length > 0 && (
        <section class="stood-out" aria-labelledby="stood-out-heading">
          <h3 id="stood-out-heading">What stood out</h3>
          {lines.map(({ by, entry }) => (
            <figure key={entry.v} class="answered">
              <figcaption>{seatName(view, by)} said:</figcaption>
              <blockquote>{entry.text}</blockquote>
            </figure>
          ))}
        </section>
      )}
      {first && <CheckInReveal view={view} checkIn={first} />}
      {last && (
        <>
          <p class="hint">And at the end:</p>
          <CheckInReveal view={view} checkIn={last} />
        </>
      )}
    </div>
  );
}
