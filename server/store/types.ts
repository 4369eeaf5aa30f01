/**
 * Domain-shaped session storage. Two implementations (MemoryStore, RedisStore) pass one contract suite
 * (tests/contract/session-store.test.ts). Nothing here speaks Redis verbs.
 */
import type { CommandAck, Seat, SessionState } from "../../shared/protocol.ts";

/** What the service keeps per session: the engine state plus the acks of recent commands (for dedupe). */
export interface SessionRecord {
  state: SessionState;
  /** Acks of the most recent command ids (bounded, oldest dropped first), so a retried command is applied once. */
  recentCommands: { id: string; ack: CommandAck }[];
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
 * What a compare-and-set did. A conflict carries the record that is stored now, so the caller can re-apply on it
 * without another round trip.
 */
export type UpdateResult = { status: "ok" } | { status: "conflict"; current: SessionRecord } | { status: "missing" };

export interface SessionStore {
  /** Stores a new session and its seat links; all of them expire together after ttlMs without activity. */
  create(record: SessionRecord, links: SeatLink[], ttlMs: number): Promise<void>;
  /** The session, or null when unknown or expired. */
  load(sessionId: string): Promise<SessionRecord | null>;
  /**
   * Atomic compare-and-set: writes `next` only if the stored state's version is still `expectedVersion`,
   * and renews the time-to-live of every key of the session. One round trip for a networked store, conflict
   * included: it answers with the current record.
   */
  update(sessionId: string, expectedVersion: number, next: SessionRecord, ttlMs: number): Promise<UpdateResult>;
  /** Erases the session and every link of it. */
  delete(sessionId: string): Promise<void>;
  /** Resolves a token hash to its seat; null when unknown or expired. */
  findSeat(tokenHash: string): Promise<SeatLookup | null>;
  /** Revokes one seat's link (the others keep working). Returns false when the session is unknown. */
  revokeSeat(sessionId: string, seat: Seat): Promise<boolean>;
  /**
   * Gives a seat a fresh link (POST /api/sessions/:id/links/:seat). Afterwards
   * findSeat(newHash) resolves to the seat unrevoked, while every older token of the seat still reports
   * revoked: true. Returns false when the session is unknown. Expires with the session like every other key.
   */
  reissueSeat(sessionId: string, seat: Seat, tokenHash: string): Promise<boolean>;
  /** Milliseconds until the session expires, or null when unknown. */
  ttl(sessionId: string): Promise<number | null>;
  /** True when the backing service answers. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
