/**
 * A small driver for playing exercises through the pure engine in tests: every move must be accepted, every
 * refusal must leave the state exactly as it was, and time only moves when the test says so.
 */
import { expect } from "vitest";
import { applyUpdate } from "../../shared/delta.ts";
import {
  type ApplyResult,
  apply,
  coreOf,
  createSession,
  type SessionInit,
  updateFor,
  viewFor,
} from "../../shared/engine.ts";
import type {
  Actor,
  Channel,
  Command,
  CommandError,
  EngineEvent,
  LogEntry,
  Partner,
  Seat,
  SessionState,
  SystemCommand,
} from "../../shared/protocol.ts";

/**
 * Checks that every seat's update for this command, applied to its view before, gives exactly its view after —
 * the way a client follows the session — and that the core alone yields the same next core as the whole state.
 */
export function expectUpdatesFollow(before: SessionState, result: Extract<ApplyResult, { ok: true }>, seats: Seat[]) {
  const fromCore = apply(coreOf(before), result.entry.command, result.entry.actor, result.entry.at);
  expect(fromCore.ok).toBe(true);
  if (!fromCore.ok) return;
  expect(fromCore.state).toEqual(coreOf(result.state));
  expect(fromCore.appended).toEqual(result.appended);
  for (const seat of seats) {
    const update = updateFor(coreOf(before), fromCore.state, fromCore.appended, seat, result.events);
    const fresh = viewFor(result.state, seat);
    if (update === null) continue;
    expect(applyUpdate(viewFor(before, seat), update), `${seat}'s update at v${update.version}`).toEqual(fresh);
  }
}

/** Applies a command that must be accepted; fails the test with the engine's error otherwise. */
export function act(
  state: SessionState,
  actor: Actor,
  command: Command | SystemCommand,
  now: number,
): { state: SessionState; events: EngineEvent[]; entry: LogEntry } {
  const before = structuredClone(state);
  const result: ApplyResult = apply(state, command, actor, now);
  expect(state, "apply must not mutate its input").toEqual(before);
  if (!result.ok) {
    throw new Error(`${actor} ${command.type} refused: ${result.error.code} (${result.error.message})`);
  }
  expect(result.state.version).toBe(state.version + 1);
  expectUpdatesFollow(state, result, state.mode === "therapist" ? ["a", "b", "therapist"] : ["a", "b"]);
  return { state: result.state, events: result.events, entry: result.entry };
}

/** Applies a command that must be refused with `code`, and checks the state did not change. */
export function refuse(
  state: SessionState,
  actor: Actor,
  command: Command | SystemCommand,
  now: number,
  code: CommandError["code"],
): CommandError {
  const before = structuredClone(state);
  const result = apply(state, command, actor, now);
  expect(state).toEqual(before);
  expect(result.ok, `${actor} ${command.type} should be refused with ${code}`).toBe(false);
  if (result.ok) throw new Error("unreachable");
  expect(result.error.code).toBe(code);
  return result.error;
}

/** A guided session at a table: a state, a clock that moves one second per move, and the session's init. */
export class Table {
  state: SessionState;
  now: number;
  readonly init: SessionInit;
  /** Events of the last accepted command. */
  events: EngineEvent[] = [];
  /** Every accepted command, in order. */
  readonly log: LogEntry[] = [];

  constructor(channel: Channel, agenda: string[], start = 1_700_000_000_000) {
    this.init = { id: `play-${channel}`, mode: "guided", channel, agenda, createdAt: start };
    this.state = createSession(this.init);
    this.now = start;
  }

  get typed(): boolean {
    return this.state.channel === "typed";
  }

  /** Moves the clock, then applies a command that must be accepted. */
  act(actor: Actor, command: Command | SystemCommand, advanceMs = 1000): SessionState {
    this.now += advanceMs;
    const { state, events, entry } = act(this.state, actor, command, this.now);
    this.state = state;
    this.events = events;
    this.log.push(entry);
    return state;
  }

  /** A command that must be refused with `code`, at the current time. */
  refuse(actor: Actor, command: Command | SystemCommand, code: CommandError["code"]): CommandError {
    return refuse(this.state, actor, command, this.now, code);
  }

  /** The current step id, or undefined outside an exercise. */
  get stepId(): string | undefined {
    return this.state.turn?.stepId;
  }

  /** The partner who holds the floor now. */
  get speaker(): Partner | undefined {
    return this.state.turn?.speaker;
  }

  /** `seat`'s view right now. */
  view(seat: Partner | "therapist") {
    return viewFor(this.state, seat);
  }
}
