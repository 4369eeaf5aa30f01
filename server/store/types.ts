/**
 * Domain-shaped session storage. Two implementations (MemoryStore, RedisStore) pass one contract suite
 * (tests/contract/session-store.test.ts). Nothing here speaks Redis verbs.
 *
 * A session is stored as its small core (rewritten by every command), its conversation and uploaded exercises
 * (appended to, never rewritten), its log of applied commands (appended to) and the acknowledgements of its most
 * recent commands (for dedupe). So a command costs the same to store however long the couple has talked.
 */
import type { SpaceStore } from "./space-types.ts";
import type { Appended, CommandAck, LogEntry, Seat, SessionCore, SessionState } from "../../shared/protocol.ts";

/** How many acknowledgements of recent command ids a session keeps for dedupe (the oldest dropped first). */
export const RECENT_COMMANDS = 100;

/** The acknowledgement of one applied command id (scoped to its seat), so a retry is answered, not re-applied. */
export interface RecentCommand {
  id: string;
  ack: CommandAck;
}

/** The whole session, as a snapshot needs it: the state with its conversation, and the recent acks. */
export interface SessionRecord {
  state: SessionState;
  recentCommands: RecentCommand[];
}

/** What applying a command needs: the core (uploaded exercises included) and the recent acks. */
export interface WorkingRecord {
  core: SessionCore;
  recentCommands: RecentCommand[];
}

/** One applied command as the store writes it: the next core, what it appended, its log entry, its ack. */
export interface SessionChange {
  core: SessionCore;
  appended: Appended;
  entry: LogEntry;
  /** The ack of a seat's command (system commands carry none). */
  recent?: RecentCommand;
}

/** A seat's capability link, stored only as the SHA-256 hash of its token. */
export interface SeatLink {
  seat: Seat;
  tokenHash: string;
}

export interface SeatLookup {
  sessionId: string;
  seat: Seat;
  revoked: boolean;
}

/**
 * What a compare-and-set did. A conflict carries the working record stored now, so the caller can re-apply on it
 * without another round trip.
 */
export type UpdateResult = { status: "ok" } | { status: "conflict"; current: WorkingRecord } | { status: "missing" };

export interface SessionStore {
  /** Stores a new session and its seat links; all of them expire together after ttlMs without activity. */
  create(record: SessionRecord, links: SeatLink[], ttlMs: number): Promise<void>;
  /** The whole session (state with conversation, recent acks), or null when unknown or expired. */
  load(sessionId: string): Promise<SessionRecord | null>;
  /** Only what applying a command needs (no conversation), or null when unknown or expired. */
  loadWorking(sessionId: string): Promise<WorkingRecord | null>;
  /** The log of every applied command in order, or null when the session is unknown or expired. */
  loadLog(sessionId: string): Promise<LogEntry[] | null>;
  /**
   * Atomic compare-and-set: writes the change only if the stored version is still `expectedVersion`, appending
   * its entries, and renews the time-to-live of every key of the session. One round trip for a networked store,
   * conflict included: it answers with the current working record.
   */
  update(sessionId: string, expectedVersion: number, change: SessionChange, ttlMs: number): Promise<UpdateResult>;
  /** Erases the session and every link of it. */
  delete(sessionId: string): Promise<void>;
  /** Resolves a token hash of the session to its seat; null when unknown (to the session) or expired. */
  findSeat(sessionId: string, tokenHash: string): Promise<SeatLookup | null>;
  /** Revokes one seat's link (the others keep working). Returns false when the session is unknown. */
  revokeSeat(sessionId: string, seat: Seat): Promise<boolean>;
  /**
   * Gives a seat a fresh link (POST /api/sessions/:id/links/:seat). Afterwards findSeat(id, newHash) resolves
   * to the seat unrevoked, while every older token of the seat still reports revoked: true. Returns false when
   * the session is unknown. Expires with the session like every other key.
   */
  reissueSeat(sessionId: string, seat: Seat, tokenHash: string): Promise<boolean>;
  /** Milliseconds until the session expires, or null when unknown. */
  ttl(sessionId: string): Promise<number | null>;
  /** True when the backing service answers. */
  ping(): Promise<boolean>;
  /** The registry of server processes kept in the same backend (one object per store). */
  nodeRegistry(): NodeRegistry;
  /** The couples' spaces, kept in the same backend (one object per store; see space-types.ts). */
  spaces(): SpaceStore;
  close(): Promise<void>;
}

/** One seat of one session held by a server process (a node). */
export interface HeldSeat {
  sessionId: string;
  seat: Seat;
}

/**
 * Which server process holds which seats, so that the seats of a process that died without saying goodbye
 * (kill -9, a lost host) can be found and shown offline by the processes that survive it.
 */
export interface NodeRegistry {
  /**
   * Node `node` is alive for at least `ttlMs` more, and its claims are kept at least `keepMs` (long enough for a
   * surviving process to settle them). True when the node was registered already; false on its first beat, or when
   * another process had taken it for dead and forgotten it (its claims are gone).
   */
  beat(node: string, ttlMs: number, keepMs: number): Promise<boolean>;
  /** Node `node` holds a socket of this seat. */
  claim(node: string, held: HeldSeat): Promise<void>;
  /** Node `node` no longer holds a socket of this seat. */
  release(node: string, held: HeldSeat): Promise<void>;
  /** Nodes whose beat has lapsed, with the seats they still claim. */
  orphans(): Promise<{ node: string; seats: HeldSeat[] }[]>;
  /** Drops a node and its claims (once its seats have been settled, or when it shuts down). */
  forget(node: string): Promise<void>;
}
