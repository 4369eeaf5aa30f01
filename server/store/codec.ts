/**
 * How both stores turn a session into strings and back: the core without its uploaded exercises (they are kept
 * apart and only appended), one string per conversation entry tagged with its list, one per log entry and per
 * recent ack. Records are plain JSON by contract; anything JSON cannot carry faithfully is refused on write.
 */
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";
import type { Appended, ConversationKey, LogEntry, SessionCore, SessionState } from "../../shared/protocol.ts";
import { CONVERSATION_KEYS } from "../../shared/protocol.ts";
import type { RecentCommand, SessionRecord, WorkingRecord } from "./types.ts";

const LIST_KEYS: ReadonlySet<string> = new Set<string>(CONVERSATION_KEYS);

/** The core as stored: every field but the uploaded exercises and any conversation list. */
export function encodeCore(core: SessionCore): string {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(core)) {
    if (key !== "custom" && !LIST_KEYS.has(key)) fields[key] = value;
  }
  return JSON.stringify(fields);
}

/** Uploaded exercises, one string each. */
export function encodeCustom(custom: readonly ExerciseDefinition[] | undefined): string[] {
  return (custom ?? []).map((definition) => JSON.stringify(definition));
}

/** Conversation entries, one string each, tagged with the list they belong to. */
export function encodeConversation(lists: Partial<Record<ConversationKey, readonly unknown[]>>): string[] {
  const out: string[] = [];
  for (const key of CONVERSATION_KEYS) {
    for (const entry of lists[key] ?? []) out.push(JSON.stringify([key, entry]));
  }
  return out;
}

/** The conversation entries a change appends (uploaded exercises are encoded apart). */
export function encodeAppended(appended: Appended): string[] {
  return encodeConversation(appended);
}

export function encodeLogEntry(entry: LogEntry): string {
  return JSON.stringify(entry);
}

export function encodeRecent(recent: RecentCommand): string {
  return JSON.stringify(recent);
}

/** The core with its uploaded exercises back in place. */
export function decodeCore(coreJson: string, custom: readonly string[]): SessionCore {
  const core = JSON.parse(coreJson) as SessionCore;
  core.custom = custom.map((c) => JSON.parse(c) as ExerciseDefinition);
  return core;
}

export function decodeWorking(coreJson: string, custom: readonly string[], recent: readonly string[]): WorkingRecord {
  return { core: decodeCore(coreJson, custom), recentCommands: recent.map((r) => JSON.parse(r) as RecentCommand) };
}

/** The whole record: the core, its lists rebuilt in order from the tagged entries, and the recent acks. */
export function decodeRecord(
  coreJson: string,
  custom: readonly string[],
  conversation: readonly string[],
  recent: readonly string[],
): SessionRecord {
  const state = decodeCore(coreJson, custom) as SessionState;
  for (const key of CONVERSATION_KEYS) (state as unknown as Record<string, unknown[]>)[key] = [];
  for (const item of conversation) {
    const [key, entry] = JSON.parse(item) as [ConversationKey, unknown];
    if (LIST_KEYS.has(key)) (state[key] as unknown[]).push(entry);
  }
  return { state, recentCommands: recent.map((r) => JSON.parse(r) as RecentCommand) };
}

export function decodeLog(log: readonly string[]): LogEntry[] {
  return log.map((entry) => JSON.parse(entry) as LogEntry);
}

/** Whole milliseconds (a fractional configured TTL rounds up); refuses non-positive or non-finite values. */
export function wholeTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs must be a positive number, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}
