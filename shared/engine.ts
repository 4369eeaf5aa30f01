// PLACEHOLDER signatures: being implemented (issue 2). Do not depend on behaviour yet.
import type {
  Actor, AllowedCommand, Channel, Command, CommandError, EngineEvent, LogEntry, Mode, Partner, Seat,
  SessionState, SessionView, SystemCommand,
} from "./protocol.ts";

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
export declare function createSession(init: SessionInit): SessionState;
/** Applies one command from one actor at time `now` (ms). Pure: never mutates `state`. */
export declare function apply(state: SessionState, command: Command | SystemCommand | unknown, actor: Actor, now: number, options?: ApplyOptions): ApplyResult;
/** What `seat` may do right now, each refusal with its code and reason. */
export declare function allowedCommands(state: SessionState, seat: Seat, now: number): AllowedCommand[];
/** The part of the state `seat` may see. */
export declare function viewFor(state: SessionState, seat: Seat, now: number): SessionView;
/** The events among `events` that `seat` may learn of. */
export declare function eventsFor(state: SessionState, seat: Seat, events: EngineEvent[]): EngineEvent[];
/** Rebuilds the state from its initial parameters and its log. */
export declare function replay(init: SessionInit, log: LogEntry[]): SessionState;
/** The next moment the server must send a system time-up (a running step deadline), if any. */
export declare function nextDeadline(state: SessionState): number | undefined;
