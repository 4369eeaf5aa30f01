/**
 * The pure exercise engine: (state, command, actor, now) -> new state, what it appended, and events, or a typed
 * refusal. No I/O, no clock, no randomness: time comes in as `now`, and the input state is never mutated.
 * Rules live in engine/rules.ts (one guard for apply and allowedCommands), command handlers in
 * engine/commands.ts, state helpers in engine/model.ts and per-seat views and updates in engine/view.ts.
 *
 * The engine reads and writes only the session's core; the conversation lists only ever grow, so a command
 * reports its new entries (`appended`) instead of copying the lists. Given a whole SessionState, apply also
 * returns the whole next state (for tests and replay); given a core alone (as the server keeps it), the next core.
 */
import { trackFloor } from "./engine/airtime.ts";
import { handle, loggedForm, noAdditions, parseCommand } from "./engine/commands.ts";
import { draft, isFrozen, lookupExercise, refuse } from "./engine/model.ts";
import { allowedFor, guard } from "./engine/rules.ts";
import { textFormProblem } from "./engine/texts.ts";
import { buildCoreView, buildUpdate, buildView, type CoreView, filterEvents } from "./engine/view.ts";
import type {
  Actor,
  AllowedCommand,
  Appended,
  Channel,
  Command,
  CommandError,
  EngineEvent,
  LogEntry,
  Mode,
  Partner,
  Seat,
  SessionCore,
  SessionState,
  SessionView,
  SystemCommand,
  ViewUpdate,
} from "./protocol.ts";
import { CONVERSATION_KEYS, ErrorCode } from "./protocol.ts";

export type { CoreView } from "./engine/view.ts";

export interface SessionInit {
  id: string;
  mode: Mode;
  channel: Channel;
  agenda: string[];
  names?: Partial<Record<Partner, string>>;
  /** Therapist mode: the therapist's name for the waiting room. */
  therapistName?: string | undefined;
  createdAt: number;
  /** `false`: the session runs every step untimed. */
  timers?: boolean | undefined;
  /** `true`: every typed text must arrive sealed (shared/engine/texts.ts). */
  encrypted?: boolean | undefined;
}

export type ApplyResult<S extends SessionCore = SessionState> =
  | {
      ok: true;
      /** The next state, of the same shape as the input (a whole state, or a core). */
      state: S;
      /** The entries this command added to the conversation lists, and any uploaded exercise. */
      appended: Appended;
      /** The command as the log keeps it. */
      entry: LogEntry;
      events: EngineEvent[];
    }
  | { ok: false; error: CommandError };

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
    ...(init.mode === "therapist" && init.therapistName ? { therapistName: init.therapistName } : {}),
    agenda: [...init.agenda],
    agendaNext: 0,
    custom: [],
    ...(init.timers === false ? { untimed: true as const } : {}),
    ...(init.encrypted === true ? { encrypted: true as const } : {}),
    phase: "lobby",
    turn: null,
    completed: [],
    presence: { a: false, b: false, therapist: false },
    admitted: { a: guided, b: guided },
    paused: null,
    timeOut: null,
    steppedOut: null,
    safety: { checks: {}, asks: {} },
    reflections: {},
    agreements: [],
    transcript: [],
    checkIns: [],
    nudges: [],
    notes: [],
    privateMessages: [],
    guesses: [],
  };
}

/** The core of a state: everything but the conversation lists. */
export function coreOf(state: SessionCore): SessionCore {
  const core: Record<string, unknown> = { ...state };
  for (const key of CONVERSATION_KEYS) delete core[key];
  return core as unknown as SessionCore;
}

function applyChecked<S extends SessionCore>(
  state: S,
  command: unknown,
  actor: unknown,
  now: number,
  options: ApplyOptions | undefined,
): ApplyResult<S> {
  const parsed = parseCommand(command, actor);
  if (!parsed.ok) return parsed;
  const textRefusal = textFormProblem(state, parsed.command);
  if (textRefusal) return { ok: false, error: textRefusal };
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
  const add = noAdditions();
  const error = handle({ s: next, add, actor: parsed.actor, now, v, events }, parsed.command);
  if (error) return { ok: false, error };
  trackFloor(state, next, now, events);
  next.version = v;
  const appended: Appended = {};
  const whole = next as unknown as Record<string, unknown[]>;
  for (const key of CONVERSATION_KEYS) {
    const added = add[key];
    if (added.length === 0) continue;
    (appended as Record<string, unknown[]>)[key] = added;
    // A whole state carries its lists on; a core has none to carry.
    const list = whole[key];
    if (Array.isArray(list)) whole[key] = list.concat(added);
  }
  if (add.custom.length > 0) appended.custom = add.custom;
  const entry: LogEntry = { v, at: now, actor: parsed.actor, command: loggedForm(parsed.command) };
  return { ok: true, state: next, appended, entry, events };
}

/** Applies one command from one actor at time `now` (ms). Pure: never mutates `state`. */
export function apply<S extends SessionCore>(
  state: S,
  command: Command | SystemCommand | unknown,
  actor: Actor,
  now: number,
  options?: ApplyOptions,
): ApplyResult<S> {
  try {
    return applyChecked(state, command, actor, now, options);
  } catch {
    // Reaching here is an engine bug; the caller still gets a refusal rather than a crashed process.
    return { ok: false, error: refuse(ErrorCode.INTERNAL, "The command could not be applied.") };
  }
}

/**
 * What `seat` may do: each command type with its refusal, if any. With `now`, judged at that moment; without it,
 * as a view shows it (time-up waits for its deadline).
 */
export function allowedCommands(state: SessionCore, seat: Seat, now?: number): AllowedCommand[] {
  return allowedFor(state, seat, now);
}

/** The part of the state `seat` may see (a snapshot). */
export function viewFor(state: SessionState, seat: Seat): SessionView {
  return buildView(state, seat);
}

/** What `seat` sees of the core alone (its view without the conversation lists). */
export function coreViewFor(state: SessionCore, seat: Seat): CoreView {
  return buildCoreView(state, seat);
}

/**
 * The update that takes `seat`'s view from `prev` to `next` (one applied command apart, with what it appended
 * and its events), or null when the seat needs a fresh snapshot instead.
 */
export function updateFor(
  prev: SessionCore,
  next: SessionCore,
  appended: Appended,
  seat: Seat,
  events: EngineEvent[],
): ViewUpdate | null {
  return buildUpdate(prev, next, appended, seat, events);
}

/** The events among `events` that `seat` may learn of. */
export function eventsFor(state: SessionCore, seat: Seat, events: EngineEvent[]): EngineEvent[] {
  return filterEvents(state, seat, events);
}

/** Rebuilds the whole state from its initial parameters and its log. */
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
export function nextDeadline(state: SessionCore): number | undefined {
  if (state.phase !== "exercise" || !state.turn || isFrozen(state)) return undefined;
  return state.turn.deadline;
}
