/**
 * The pure exercise engine: (state, command, actor, now) -> new state and events, or a typed refusal.
 * No I/O, no clock, no randomness: time comes in as `now`, and the input state is never mutated.
 * Rules live in engine/rules.ts (one guard for apply and allowedCommands), command handlers in
 * engine/commands.ts, state helpers in engine/model.ts and per-seat views in engine/view.ts.
 */
import { handle, loggedForm, parseCommand } from "./engine/commands.ts";
import { draft, isFrozen, lookupExercise, refuse } from "./engine/model.ts";
import { allowedFor, guard } from "./engine/rules.ts";
import { buildView, filterEvents } from "./engine/view.ts";
import type {
  Actor,
  AllowedCommand,
  Channel,
  Command,
  CommandError,
  EngineEvent,
  LogEntry,
  Mode,
  Partner,
  Seat,
  SessionState,
  SessionView,
  SystemCommand,
} from "./protocol.ts";
import { ErrorCode } from "./protocol.ts";

export interface SessionInit {
  id: string;
  mode: Mode;
  channel: Channel;
  agenda: string[];
  names?: Partial<Record<Partner, string>>;
  createdAt: number;
}

export type ApplyResult = { ok: true; state: SessionState; events: EngineEvent[] } | { ok: false; error: CommandError };

export interface ApplyOptions {
  /** When given and not equal to state.version, the command is refused with STALE_VERSION. */
  expectedVersion?: number;
}

/** A new session at version 0 in the lobby. Throws on an unknown agenda id (validate with findExercise first). */
export function createSession(init: SessionInit): SessionState {
  for (const id of init.agenda) {
    if (!lookupExercise({ custom: [] }, id)) throw new Error(`unknown exercise '${id}' in the agenda`);
  }
  const guided = init.mode === "guided";
  return {
    id: init.id,
    mode: init.mode,
    channel: init.channel,
    version: 0,
    createdAt: init.createdAt,
    // Only names actually given: an explicit undefined would not survive the store's JSON round trip.
    names: Object.fromEntries(Object.entries(init.names ?? {}).filter(([, name]) => typeof name === "string")),
    agenda: [...init.agenda],
    agendaNext: 0,
    custom: [],
    phase: "lobby",
    turn: null,
    completed: [],
    presence: { a: false, b: false, therapist: false },
    admitted: { a: guided, b: guided },
    paused: null,
    timeOut: null,
    steppedOut: null,
    transcript: [],
    checkIns: [],
    nudges: [],
    notes: [],
    privateMessages: [],
    log: [],
  };
}

function applyChecked(
  state: SessionState,
  command: unknown,
  actor: unknown,
  now: number,
  options: ApplyOptions | undefined,
): ApplyResult {
  const parsed = parseCommand(command, actor);
  if (!parsed.ok) return parsed;
  if (typeof now !== "number" || !Number.isFinite(now)) {
    return { ok: false, error: refuse(ErrorCode.INVALID_COMMAND, "now: must be a finite number of milliseconds") };
  }
  if (options?.expectedVersion !== undefined && options.expectedVersion !== state.version) {
    return {
      ok: false,
      error: refuse(ErrorCode.STALE_VERSION, `expectedVersion: the session is at version ${state.version}`),
    };
  }
  const refusal = guard(state, parsed.actor, parsed.command.type, now);
  if (refusal) return { ok: false, error: refusal };
  const next = draft(state);
  const events: EngineEvent[] = [];
  const v = state.version + 1;
  const error = handle({ s: next, actor: parsed.actor, now, v, events }, parsed.command);
  if (error) return { ok: false, error };
  next.version = v;
  next.log.push({ v, at: now, actor: parsed.actor, command: loggedForm(parsed.command) });
  return { ok: true, state: next, events };
}

/** Applies one command from one actor at time `now` (ms). Pure: never mutates `state`. */
export function apply(
  state: SessionState,
  command: Command | SystemCommand | unknown,
  actor: Actor,
  now: number,
  options?: ApplyOptions,
): ApplyResult {
  try {
    return applyChecked(state, command, actor, now, options);
  } catch {
    // Reaching here is an engine bug; the caller still gets a refusal rather than a crashed process.
    return { ok: false, error: refuse(ErrorCode.INTERNAL, "The command could not be applied.") };
  }
}

/** What `seat` may do right now, each refusal with its code and reason. */
export function allowedCommands(state: SessionState, seat: Seat, now: number): AllowedCommand[] {
  return allowedFor(state, seat, now);
}

/** The part of the state `seat` may see. */
export function viewFor(state: SessionState, seat: Seat, now: number): SessionView {
  return buildView(state, seat, now);
}

/** The events among `events` that `seat` may learn of. */
export function eventsFor(state: SessionState, seat: Seat, events: EngineEvent[]): EngineEvent[] {
  return filterEvents(state, seat, events);
}

/** Rebuilds the state from its initial parameters and its log. */
export function replay(init: SessionInit, log: LogEntry[]): SessionState {
  let state = createSession(init);
  for (const entry of log) {
    const result = apply(state, entry.command, entry.actor, entry.at);
    if (!result.ok) throw new Error(`log entry v${entry.v} does not replay: ${result.error.code}`);
    state = result.state;
  }
  return state;
}

/** The next moment the server must send a system time-up (a running step deadline), if any. */
export function nextDeadline(state: SessionState): number | undefined {
  if (state.phase !== "exercise" || !state.turn || isFrozen(state)) return undefined;
  return state.turn.deadline;
}
