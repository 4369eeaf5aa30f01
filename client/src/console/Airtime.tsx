/**
 * Floor time, for the therapist's eyes only: a quiet split of who has held the floor (this exercise and the session)
 * and the recent turns, counted by the engine from the moments the floor changed hands; the running turn ticks
 * here from its start. The couple never sees it.
 */
import { useEffect, useState } from "preact/hooks";
import type { Airtime, Partner, SessionView } from "../../../shared/protocol.ts";
import { minutesSeconds, seatName } from "../room/words.ts";

const PARTNERS: Partner[] = ["a", "b"];

/** The current time, ticking every `ms` while `active`. */
export function useNow(active: boolean, ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [active, ms]);
  return now;
}

/** Milliseconds of the running turn not yet counted in the totals. */
function liveMs(airtime: Airtime, partner: Partner, now: number): number {
  const f = airtime.floor;
  return f && f.speaker === partner && f.since !== null ? Math.max(0, now - f.since) : 0;
}

/** Session totals up to `now`. */
export function sessionSplit(airtime: Airtime, now: number): Record<Partner, number> {
  return {
    a: airtime.session.a.ms + liveMs(airtime, "a", now),
    b: airtime.session.b.ms + liveMs(airtime, "b", now),
  };
}

/** The running (or last) exercise's split up to `now`. */
export function exerciseSplit(airtime: Airtime, now: number): Record<Partner, number> | null {
  const run = airtime.runs.at(-1);
  if (!run) return null;
  const running = airtime.floor?.exerciseId === run.exerciseId;
  return {
    a: run.a.ms + (running ? liveMs(airtime, "a", now) : 0),
    b: run.b.ms + (running ? liveMs(airtime, "b", now) : 0),
  };
}

/** "Robin 62% · Kai 38%"-style words for one split, or null before anyone held the floor. */
export function splitWords(view: SessionView, split: Record<Partner, number>): string | null {
  const total = split.a + split.b;
  if (total < 1000) return null;
  const pa = Math.round((split.a / total) * 100);
  return `${seatName(view, "a")} ${minutesSeconds(split.a)} (${pa}%) · ${seatName(view, "b")} ${minutesSeconds(split.b)} (${100 - pa}%)`;
}

/** Whether one partner has had clearly more of the floor (about two thirds or more, over a few minutes). */
export function lopsided(split: Record<Partner, number>): Partner | null {
  const total = split.a + split.b;
  if (total < 3 * 60_000) return null;
  if (split.a / total >= 0.66) return "a";
  if (split.b / total >= 0.66) return "b";
  return null;
}

/** The words the therapist may send both, gently, when the split leans one way (never a number). */
export function gentleNote(view: SessionView, quieter: Partner): string {
  return `A gentle note for you both: let's make sure each of you has room to be heard today. ${seatName(view, quieter)}, there's space for you whenever you're ready.`;
}

function SplitBar({ view, split, label }: { view: SessionView; split: Record<Partner, number>; label: string }) {
  const total = split.a + split.b;
  const pa = total > 0 ? (split.a / total) * 100 : 50;
  const words = splitWords(view, split);
  return (
    <div class="airtime-row">
      <p class="airtime-label">
        <span>{label}</span>
        <span class="airtime-words">{words ?? "No floor time yet"}</span>
      </p>
      <div class="airtime-bar" aria-hidden="true">
        {words && <span class="share a" style={{ width: `${pa}%` }} />}
        {words && <span class="share b" style={{ width: `${100 - pa}%` }} />}
      </div>
    </div>
  );
}

/** The recent turns as small bars (height = length), oldest first, with the same in words for screen readers. */
function Trend({ view, airtime, now }: { view: SessionView; airtime: Airtime; now: number }) {
  const turns = airtime.turns.map((t) => ({ speaker: t.speaker, ms: t.ms }));
  if (airtime.floor) {
    const f = airtime.floor;
    turns.push({ speaker: f.speaker, ms: f.ms + (f.since !== null ? Math.max(0, now - f.since) : 0) });
  }
  const recent = turns.slice(-10);
  if (recent.length === 0) return null;
  const longest = Math.max(...recent.map((t) => t.ms), 1);
  const words = recent.map((t) => `${seatName(view, t.speaker)} ${minutesSeconds(t.ms)}`).join(", ");
  return (
    <div class="airtime-trend">
      <p class="airtime-label">
        <span>Recent turns</span>
      </p>
      <ol class="trend-bars" aria-label={`Recent turns, oldest first: ${words}`}>
        {recent.map((t, i) => (
          <li
            key={i}
            class={`trend-bar ${t.speaker}`}
            style={{ height: `${Math.max(8, (t.ms / longest) * 100)}%` }}
            title={`${seatName(view, t.speaker)} ${minutesSeconds(t.ms)}`}
          />
        ))}
      </ol>
    </div>
  );
}

/** The airtime panel: the split, the trend, and a gentle note offered when the floor leans one way. */
export function AirtimePanel({ view, onGentleNote }: { view: SessionView; onGentleNote: (text: string) => void }) {
  const airtime = view.airtime;
  const now = useNow(Boolean(airtime?.floor?.since));
  const session = airtime ? sessionSplit(airtime, now) : null;
  const exercise = airtime ? exerciseSplit(airtime, now) : null;
  const leaning = session ? lopsided(session) : null;
  const canMessage = view.allowed.find((a) => a.type === "message-both")?.allowed ?? false;
  return (
    <section class="console-panel airtime" aria-labelledby="airtime-heading" data-testid="airtime">
      <h3 id="airtime-heading">Floor time</h3>
      {!airtime || !session ? (
        <p class="hint">Who holds the floor, and for how long, shows here once an exercise starts. Only you see it.</p>
      ) : (
        <>
          <ul class="airtime-key" aria-hidden="true">
            {PARTNERS.map((p) => (
              <li key={p}>
                <span class={`swatch ${p}`} /> {seatName(view, p)}
              </li>
            ))}
          </ul>
          {exercise && <SplitBar view={view} split={exercise} label="This exercise" />}
          <SplitBar view={view} split={session} label="Session" />
          <p class="sr-only" data-testid="airtime-turns">
            Turns: {seatName(view, "a")} {airtime.session.a.turns}, {seatName(view, "b")} {airtime.session.b.turns}.
          </p>
          <Trend view={view} airtime={airtime} now={now} />
          {leaning && (
            <p class="hint airtime-lean">{seatName(view, leaning)} has held the floor for most of the session.</p>
          )}
          {session.a + session.b >= 1000 && (
            <button
              type="button"
              class="btn quiet small"
              disabled={!canMessage}
              onClick={() => onGentleNote(gentleNote(view, session.a <= session.b ? "a" : "b"))}
            >
              Draft a gentle note to both
            </button>
          )}
          <p class="hint">Only you see this; the couple never sees a score.</p>
        </>
      )}
    </section>
  );
}
