/**
 * Spaces in this process's memory (MemoryStore's half of the space contract). Entries are kept as the JSON text
 * RedisStore would hold, so no caller ever shares an object with what is stored. Expiry is exact: reads check
 * the deadline.
 */
import type { Partner } from "../../shared/protocol.ts";
import { wholeTtl } from "./codec.ts";
import type {
  AppendResult,
  PartnerLink,
  SpaceEntry,
  SpaceLimits,
  SpaceLinkLookup,
  SpaceMeta,
  SpaceStore,
} from "./space-types.ts";

interface Space {
  createdAt: number;
  order: string[];
  entries: Map<string, string>;
  bytes: number;
  current: Map<Partner, string>;
  tokens: Map<string, { partner: Partner; revoked: boolean }>;
  expiresAt: number;
}

export class MemorySpaceStore implements SpaceStore {
  readonly #spaces = new Map<string, Space>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async createSpace(meta: { id: string; createdAt: number }, links: PartnerLink[], ttlMs: number): Promise<void> {
    const ttl = wholeTtl(ttlMs);
    if (this.#live(meta.id)) throw new Error(`space ${meta.id} already exists`);
    this.#spaces.set(meta.id, {
      createdAt: meta.createdAt,
      order: [],
      entries: new Map(),
      bytes: 0,
      current: new Map(links.map((l) => [l.partner, l.tokenHash])),
      tokens: new Map(links.map((l) => [l.tokenHash, { partner: l.partner, revoked: false }])),
      expiresAt: this.#now() + ttl,
    });
  }

  async findByLinkHash(spaceId: string, tokenHash: string): Promise<SpaceLinkLookup | null> {
    const token = this.#live(spaceId)?.tokens.get(tokenHash);
    return token ? { spaceId, partner: token.partner, revoked: token.revoked } : null;
  }

  async append(spaceId: string, entry: SpaceEntry, limits: SpaceLimits, ttlMs: number): Promise<AppendResult> {
    const ttl = wholeTtl(ttlMs);
    const s = this.#live(spaceId);
    if (!s) return "missing";
    if (s.entries.has(entry.id)) return "exists";
    if (s.order.length + 1 > limits.maxEntries || s.bytes + entry.size > limits.maxBytes) return "full";
    s.entries.set(entry.id, JSON.stringify(entry));
    s.order.push(entry.id);
    s.bytes += entry.size;
    s.expiresAt = this.#now() + ttl;
    return "ok";
  }

  async meta(spaceId: string): Promise<SpaceMeta | null> {
    const s = this.#live(spaceId);
    return s ? { id: spaceId, createdAt: s.createdAt, entries: s.order.length, bytes: s.bytes } : null;
  }

  async listEntries(spaceId: string): Promise<SpaceEntry[] | null> {
    const s = this.#live(spaceId);
    if (!s) return null;
    return s.order.map((id) => JSON.parse(s.entries.get(id)!) as SpaceEntry);
  }

  async touch(spaceId: string, ttlMs: number): Promise<boolean> {
    const ttl = wholeTtl(ttlMs);
    const s = this.#live(spaceId);
    if (!s) return false;
    s.expiresAt = this.#now() + ttl;
    return true;
  }

  async revokeLink(spaceId: string, partner: Partner): Promise<boolean> {
    const s = this.#live(spaceId);
    const hash = s?.current.get(partner);
    const token = hash === undefined ? undefined : s?.tokens.get(hash);
    if (!token) return false;
    token.revoked = true;
    return true;
  }

  async reissueLink(spaceId: string, partner: Partner, tokenHash: string): Promise<boolean> {
    const s = this.#live(spaceId);
    const previous = s?.current.get(partner);
    if (!s || previous === undefined) return false;
    if (s.tokens.has(tokenHash)) throw new Error("token hash already in use");
    const old = s.tokens.get(previous);
    if (old) old.revoked = true;
    s.current.set(partner, tokenHash);
    s.tokens.set(tokenHash, { partner, revoked: false });
    return true;
  }

  async erase(spaceId: string): Promise<void> {
    this.#spaces.delete(spaceId);
  }

  async ttl(spaceId: string): Promise<number | null> {
    const s = this.#live(spaceId);
    return s ? s.expiresAt - this.#now() : null;
  }

  /** Drops every expired space (called by MemoryStore's sweep). */
  sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#spaces) if (s.expiresAt <= now) this.#spaces.delete(id);
  }

  #live(spaceId: string): Space | undefined {
    const s = this.#spaces.get(spaceId);
    if (!s) return undefined;
    if (s.expiresAt <= this.#now()) {
      this.#spaces.delete(spaceId);
      return undefined;
    }
    return s;
  }
}
