/**
 * The couples' spaces (issue 15): capability links per partner (like seat links: 126 random bits, only a hash
 * stored), opaque encrypted entries, and the one rule the server enforces on them — a partner's "did it
 * happen?" answer reaches the other partner only once both have answered in the same group.
 * The server never holds a key and never reads an entry; see docs/space.md.
 */
import { nanoid } from "nanoid";
import type { Partner } from "../shared/protocol.ts";
import {
  AppendEntrySchema,
  type AppendEntryResponse,
  SPACE_LIMITS,
  type SpaceEntryView,
  type SpaceView,
} from "../shared/space-protocol.ts";
import type { SpaceEntry, SpaceStore } from "./store/space-types.ts";
import { hashToken } from "./tokens.ts";

const SPACE_TOKEN_RE = /^([A-Za-z0-9_-]{21})\.[A-Za-z0-9_-]{21}$/;
const PARTNERS: readonly Partner[] = ["a", "b"];

export type SpaceErrorCode =
  | "TOKEN_MISSING"
  | "TOKEN_UNKNOWN"
  | "TOKEN_REVOKED"
  | "SPACE_NOT_FOUND"
  | "SPACE_FULL"
  | "INVALID_ENTRY"
  | "NOT_YOURS"
  | "INVALID_COMMAND";

export interface SpaceError {
  code: SpaceErrorCode;
  message: string;
  field?: string;
}

export type SpaceResult<T> = { ok: true; value: T } | { ok: false; status: number; error: SpaceError };

export interface SpaceIdentity {
  spaceId: string;
  partner: Partner;
}

/** A fresh space token: the space id, a dot, 21 nanoid characters (126 random bits). Only its hash is stored. */
export function newSpaceToken(spaceId: string): string {
  return `${spaceId}.${nanoid()}`;
}

export function isWellFormedSpaceToken(token: unknown): token is string {
  return typeof token === "string" && SPACE_TOKEN_RE.test(token);
}

function fail<T>(status: number, code: SpaceErrorCode, message: string, field?: string): SpaceResult<T> {
  return { ok: false, status, error: { code, message, ...(field ? { field } : {}) } };
}

export class SpaceService {
  readonly #spaces: SpaceStore;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { spaces: SpaceStore; ttlMs: number; now?: () => number }) {
    this.#spaces = options.spaces;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  /** Creates a space; the raw tokens are returned once and never stored. */
  async create(): Promise<{ id: string; tokens: Record<Partner, string>; expiresAt: number }> {
    const id = nanoid();
    const tokens = { a: newSpaceToken(id), b: newSpaceToken(id) };
    const now = this.#now();
    await this.#spaces.createSpace(
      { id, createdAt: now },
      PARTNERS.map((partner) => ({ partner, tokenHash: hashToken(tokens[partner]) })),
      this.#ttlMs,
    );
    return { id, tokens, expiresAt: now + this.#ttlMs };
  }

  /** Resolves a presented token for space `spaceId`. */
  async authenticate(token: string | undefined, spaceId: string): Promise<SpaceResult<SpaceIdentity>> {
    if (!token) return fail(401, "TOKEN_MISSING", "send Authorization: Bearer <the token of your space link>");
    const named = SPACE_TOKEN_RE.exec(token)?.[1];
    if (!named) return fail(401, "TOKEN_UNKNOWN", "this space link is not valid");
    const lookup = await this.#spaces.findByLinkHash(named, hashToken(token));
    if (!lookup) return fail(401, "TOKEN_UNKNOWN", "this space link is not valid, or the space was erased or expired");
    if (lookup.revoked) return fail(401, "TOKEN_REVOKED", "this space link was replaced or revoked");
    if (named !== spaceId) return fail(403, "NOT_YOURS", "this link belongs to another space");
    return { ok: true, value: { spaceId: named, partner: lookup.partner } };
  }

  /**
   * The space as `who` may see it, renewing its time-to-live (a visit). The other partner's answers in a group
   * where `who` has not answered yet are listed sealed: who and when, never the envelope.
   */
  async view(who: SpaceIdentity): Promise<SpaceResult<SpaceView>> {
    const [meta, entries] = await Promise.all([
      this.#spaces.meta(who.spaceId),
      this.#spaces.listEntries(who.spaceId),
      this.#spaces.touch(who.spaceId, this.#ttlMs),
    ]);
    if (!meta || !entries) return fail(404, "SPACE_NOT_FOUND", "this space was erased or has expired");
    const answeredGroups = new Set(
      entries.filter((e) => e.kind === "answer" && e.by === who.partner && e.group).map((e) => e.group),
    );
    const list = entries.map((e): SpaceEntryView => {
      const out: SpaceEntryView = {
        id: e.id,
        kind: e.kind as SpaceEntryView["kind"],
        by: e.by,
        at: e.at,
        size: e.size,
        ...(e.group ? { group: e.group } : {}),
      };
      const sealed = e.kind === "answer" && e.by !== who.partner && !answeredGroups.has(e.group);
      if (sealed) out.sealed = true;
      else out.envelope = JSON.parse(e.envelope) as SpaceEntryView["envelope"];
      return out;
    });
    return {
      ok: true,
      value: {
        id: who.spaceId,
        you: who.partner,
        createdAt: meta.createdAt,
        expiresAt: this.#now() + this.#ttlMs,
        entries: list,
      },
    };
  }

  /** Appends one entry (idempotent by id). */
  async append(who: SpaceIdentity, body: unknown): Promise<SpaceResult<AppendEntryResponse>> {
    const parsed = AppendEntrySchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join(".") || "body";
      return fail(400, "INVALID_ENTRY", `${field}: ${issue?.message ?? "not a valid entry"}`, field);
    }
    const { id, kind, group, envelope } = parsed.data;
    if (kind === "answer" && !group) return fail(400, "INVALID_ENTRY", "group: an answer needs a group", "group");
    const text = JSON.stringify(envelope);
    const size = Buffer.byteLength(text, "utf8");
    if (size > SPACE_LIMITS.envelopeMax) {
      return fail(413, "INVALID_ENTRY", `envelope: over ${SPACE_LIMITS.envelopeMax} bytes`, "envelope");
    }
    const entry: SpaceEntry = {
      id,
      kind,
      by: who.partner,
      at: this.#now(),
      ...(group ? { group } : {}),
      envelope: text,
      size,
    };
    const result = await this.#spaces.append(
      who.spaceId,
      entry,
      { maxEntries: SPACE_LIMITS.entriesMax, maxBytes: SPACE_LIMITS.bytesMax },
      this.#ttlMs,
    );
    if (result === "missing") return fail(404, "SPACE_NOT_FOUND", "this space was erased or has expired");
    if (result === "full") {
      return fail(
        413,
        "SPACE_FULL",
        `this space is full (at most ${SPACE_LIMITS.entriesMax} entries, ${SPACE_LIMITS.bytesMax / 1_000_000} MB): export it, then erase it to start again`,
      );
    }
    return { ok: true, value: { id, stored: result === "ok" } };
  }

  /** Revokes the asking partner's own link (only their own: erase is how one ends the space for both). */
  async revoke(who: SpaceIdentity, partner: string): Promise<SpaceResult<{ partner: Partner }>> {
    if (partner !== who.partner) {
      return fail(403, "NOT_YOURS", "you can revoke only your own link; your partner can revoke theirs");
    }
    if (!(await this.#spaces.revokeLink(who.spaceId, who.partner))) {
      return fail(404, "SPACE_NOT_FOUND", "this space was erased or has expired");
    }
    return { ok: true, value: { partner: who.partner } };
  }

  /** A fresh link for either partner (your own, or your partner's if they lost theirs); the old one stops working. */
  async reissue(who: SpaceIdentity, partner: string): Promise<SpaceResult<{ partner: Partner; token: string }>> {
    if (partner !== "a" && partner !== "b") {
      return fail(400, "INVALID_COMMAND", "partner must be a or b", "partner");
    }
    const token = newSpaceToken(who.spaceId);
    if (!(await this.#spaces.reissueLink(who.spaceId, partner, hashToken(token)))) {
      return fail(404, "SPACE_NOT_FOUND", "this space was erased or has expired");
    }
    return { ok: true, value: { partner, token } };
  }

  /** Erases the space for both partners at once. */
  async erase(who: SpaceIdentity): Promise<SpaceResult<{ id: string }>> {
    await this.#spaces.erase(who.spaceId);
    return { ok: true, value: { id: who.spaceId } };
  }
}
