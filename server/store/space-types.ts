/**
 * Domain-shaped storage of couples' spaces (issue 15), beside the sessions in the same store. A space is a few
 * metadata fields, two partner links (stored as token hashes only) and an append-only list of opaque entries
 * that the browser encrypted: the store never sees a key or anything readable. Both implementations
 * (MemoryStore, RedisStore) pass one contract suite (tests/contract/space-store.test.ts).
 */
import type { Partner } from "../../shared/protocol.ts";

/** One stored entry: what the server may know about it (id, kind, author, time, size) and the opaque envelope. */
export interface SpaceEntry {
  /** Chosen by the client (random, or derived from what it records so two partners saving it land once). */
  id: string;
  /** What kind of entry this is, in the clear so the server can apply the answer rule ("answer" entries). */
  kind: string;
  /** Which partner's link wrote it. */
  by: Partner;
  /** When the server stored it (ms). */
  at: number;
  /** Entries answering the same question carry the same opaque group id (e.g. one agreement's "did it happen?"). */
  group?: string;
  /** The encrypted envelope, as JSON text; `size` is its length in bytes. */
  envelope: string;
  size: number;
}

/** A partner's capability link, stored only as the SHA-256 hash of its token. */
export interface PartnerLink {
  partner: Partner;
  tokenHash: string;
}

export interface SpaceLinkLookup {
  spaceId: string;
  partner: Partner;
  revoked: boolean;
}

export interface SpaceMeta {
  id: string;
  createdAt: number;
  /** How many entries and how many envelope bytes the space holds. */
  entries: number;
  bytes: number;
}

/** Bounds an append must respect (the store refuses with "full" beyond them). */
export interface SpaceLimits {
  maxEntries: number;
  maxBytes: number;
}

export type AppendResult = "ok" | "exists" | "missing" | "full";

export interface SpaceStore {
  /** Stores a new space with its two links; every key expires after ttlMs without a visit. Refuses an existing id. */
  createSpace(meta: { id: string; createdAt: number }, links: PartnerLink[], ttlMs: number): Promise<void>;
  /** Resolves a token hash within its space to the partner; null when unknown (to the space) or expired. */
  findByLinkHash(spaceId: string, tokenHash: string): Promise<SpaceLinkLookup | null>;
  /**
   * Appends one entry atomically: "exists" (nothing written) when an entry with this id is there already, so a
   * retried or twice-composed entry lands exactly once; "full" when the limits would be passed; "missing" when
   * the space is unknown. Renews the time-to-live of the space.
   */
  append(spaceId: string, entry: SpaceEntry, limits: SpaceLimits, ttlMs: number): Promise<AppendResult>;
  /** The space's metadata, or null when unknown or expired. */
  meta(spaceId: string): Promise<SpaceMeta | null>;
  /** Every entry in the order stored, or null when the space is unknown or expired. */
  listEntries(spaceId: string): Promise<SpaceEntry[] | null>;
  /** Renews the time-to-live of every key of the space (a visit). False when unknown. */
  touch(spaceId: string, ttlMs: number): Promise<boolean>;
  /** Revokes a partner's current link (it keeps answering "revoked"). False when the space is unknown. */
  revokeLink(spaceId: string, partner: Partner): Promise<boolean>;
  /** Gives a partner a fresh link; their previous one is revoked. False when the space is unknown. */
  reissueLink(spaceId: string, partner: Partner, tokenHash: string): Promise<boolean>;
  /** Erases the space, its entries and both links at once. */
  erase(spaceId: string): Promise<void>;
  /** Milliseconds until the space expires, or null when unknown. */
  ttl(spaceId: string): Promise<number | null>;
}
