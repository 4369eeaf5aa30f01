/**
 * Airtime: who held the floor and for how long, measured from the moments at which commands applied. Pure, like
 * the rest of the engine: time comes in as `now`. Only the running timer counts (a pause, a time-out or a step-out
 * stops the clock), so the split is of time actually spent on the floor.
 *
 * The therapist's view carries it whole; a partner's never does. In a guided session the partner holding the floor
 * learns only the moment from which a kind suggestion to hand it over applies (floorSuggestion), never a number.
 */
import type { Airtime, EngineEvent, FloorShare, Seat, SessionCore } from "../protocol.ts";
import { AIRTIME_RUNS_MAX, AIRTIME_TURNS_MAX, isPartner, otherPartner } from "../protocol.ts";
import { isFrozen } from "./model.ts";

/** A guided speaker has had "far longer" once they held the floor this many times as long as their partner… */
export const FLOOR_SUGGESTION_RATIO = 2;
/** …and at least this much longer (so a short first turn never triggers it). */
export const FLOOR_SUGGESTION_MARGIN_MS = 5 * 60_000;

const none = (): FloorShare => ({ ms: 0, turns: 0 });

function emptyAirtime(): Airtime {
  return { session: { a: none(), b: none() }, runs: [], turns: [], floor: null };
}

/** A copy the caller may change: fresh containers, shares copied (entries of turns are never changed). */
function copyAirtime(a: Airtime): Airtime {
  return {
    session: { a: { ...a.session.a }, b: { ...a.session.b } },
    runs: a.runs.map((r) => ({ ...r, a: { ...r.a }, b: { ...r.b } })),
    turns: [...a.turns],
    floor: a.floor ? { ...a.floor } : null,
  };
}

/**
 * Updates `s.airtime` (the draft of the next state) after a command applied at `now`, from the state before it.
 * Writes only when the floor changed hands, an exercise started or ended, the clock stopped or started again, or
 * the step moved on; any other command leaves airtime exactly as it was.
 */
export function trackFloor(prev: SessionCore, s: SessionCore, now: number, events: readonly EngineEvent[]): void {
  const old = prev.airtime;
  const held = old?.floor ?? null;
  const turn = s.phase === "exercise" ? s.turn : null;
  if (!held && !turn) return;
  const running = turn !== null && !isFrozen(s);
  const started = events.some((e) => e.type === "exercise-started");
  const sameFloor =
    held !== null && turn !== null && !started && held.speaker === turn.speaker && held.exerciseId === turn.exerciseId;
  const stepMoved = prev.turn?.stepId !== s.turn?.stepId || prev.turn?.stepStartedAt !== s.turn?.stepStartedAt;
  if (sameFloor && (held.since !== null) === running && !stepMoved) return;

  const next = old ? copyAirtime(old) : emptyAirtime();
  let heldMs = held?.ms ?? 0;
  if (held && held.since !== null) {
    const ms = Math.max(0, now - held.since);
    heldMs += ms;
    next.session[held.speaker].ms += ms;
    const run = next.runs.at(-1);
    if (run && run.exerciseId === held.exerciseId) run[held.speaker].ms += ms;
  }
  if (sameFloor) {
    next.floor = { ...held, ms: heldMs, since: running ? now : null };
  } else {
    if (held) {
      next.turns.push({ speaker: held.speaker, ms: heldMs, exerciseId: held.exerciseId, endedAt: now });
      if (next.turns.length > AIRTIME_TURNS_MAX) next.turns.splice(0, next.turns.length - AIRTIME_TURNS_MAX);
    }
    if (turn && (started || next.runs.at(-1)?.exerciseId !== turn.exerciseId)) {
      next.runs.push({ exerciseId: turn.exerciseId, startedAt: now, a: none(), b: none() });
      if (next.runs.length > AIRTIME_RUNS_MAX) next.runs.splice(0, next.runs.length - AIRTIME_RUNS_MAX);
    }
    if (turn) {
      next.floor = { speaker: turn.speaker, exerciseId: turn.exerciseId, ms: 0, since: running ? now : null };
      next.session[turn.speaker].turns += 1;
      const run = next.runs.at(-1);
      if (run) run[turn.speaker].turns += 1;
    } else {
      next.floor = null;
    }
  }
  s.airtime = next;
}

/**
 * Guided sessions: for the partner holding a running floor, the moment from which they will have held it far longer
 * than their partner (ratio and margin above), if they keep it; null for a guided partner without one, undefined
 * for every other seat.
 */
export function floorSuggestionFor(state: SessionCore, seat: Seat): { from: number } | null | undefined {
  if (state.mode !== "guided" || !isPartner(seat)) return undefined;
  const airtime = state.airtime;
  const floor = airtime?.floor;
  if (!airtime || !floor || floor.since === null || floor.speaker !== seat) return null;
  const mine = airtime.session[seat].ms;
  const theirs = airtime.session[otherPartner(seat)].ms;
  const needed = Math.max(theirs * FLOOR_SUGGESTION_RATIO, theirs + FLOOR_SUGGESTION_MARGIN_MS);
  return { from: floor.since + Math.max(0, needed - mine) };
}
