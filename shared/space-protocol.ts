/**
 * The couple's space (issue 15): the REST shapes the server checks, and the shapes of what the browser encrypts
 * inside each entry (the server never sees those; they are shared so the page, the headless participant and the
 * tests read and write the same thing). See docs/space.md.
 */
import { z } from "zod";
import type { Partner } from "./protocol.ts";

export const SPACE_LIMITS = {
  /** Entries one space may hold. */
  entriesMax: 500,
  /** Bytes of envelopes one space may hold in all. */
  bytesMax: 2_000_000,
  /** Bytes of one envelope (a kept session with its chosen lines fits many times over). */
  envelopeMax: 48_000,
} as const;

/**
 * The kinds of entry. The server reads only the kind: an `answer` ("did it happen?") of one partner is withheld
 * from the other until both have answered in the same group.
 */
export const SPACE_ENTRY_KINDS = ["hello", "session", "answer", "invite", "joined", "plan"] as const;
export type SpaceEntryKind = (typeof SPACE_ENTRY_KINDS)[number];

const base64url = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9_-]+$/, "must be base64url");

export const EnvelopeSchema = z.strictObject({
  v: z.literal(1),
  iv: base64url(16, 16),
  ct: base64url(22, Math.ceil((SPACE_LIMITS.envelopeMax * 4) / 3)),
});

/** POST /api/spaces/:id/entries */
export const AppendEntrySchema = z.strictObject({
  /** Chosen by the client: random, or derived (keyed HMAC) so two partners saving the same thing land once. */
  id: base64url(16, 43),
  kind: z.enum(SPACE_ENTRY_KINDS),
  /** An opaque id shared by the entries that answer the same question. */
  group: base64url(16, 43).optional(),
  envelope: EnvelopeSchema,
});
export type AppendEntryRequest = z.infer<typeof AppendEntrySchema>;

export interface CreateSpaceResponse {
  id: string;
  /** One private link per partner, without the key: the browser adds `#<key>`, which never reaches the server. */
  links: Record<Partner, string>;
  expiresAt: number;
}

/** One entry as GET /api/spaces/:id lists it. `sealed`: the other partner's answer, withheld until you answer. */
export interface SpaceEntryView {
  id: string;
  kind: SpaceEntryKind;
  by: Partner;
  at: number;
  size: number;
  group?: string;
  envelope?: { v: number; iv: string; ct: string };
  sealed?: true;
}

export interface SpaceView {
  id: string;
  /** Which partner's link asked. */
  you: Partner;
  createdAt: number;
  expiresAt: number;
  entries: SpaceEntryView[];
}

export interface AppendEntryResponse {
  id: string;
  /** False when an entry with this id was stored already (by you or your partner): nothing was written. */
  stored: boolean;
}

// --- what the browser encrypts (never seen by the server) ---------------------------------------------------

/** The first entry: who the space belongs to. */
export interface HelloContent {
  names: Record<Partner, string>;
  createdAt: number;
}

/** Each partner's ratings before and after, as a check-in recorded them (0-100) and the closing "heard" (1-10). */
export interface KeptRatings {
  before?: { rating?: number; feeling?: string };
  after?: { rating?: number; feeling?: string };
  heard: number;
  word?: string;
}

export interface KeptAgreement {
  /** Stable across both partners' copies: derived from the session and the agreement's version. */
  ref: string;
  exercise: string;
  what?: string;
  /** An ISO 8601 date-time with offset. */
  when?: string;
  picked?: string;
  by: Partner | "therapist";
}

/** A session both partners chose to keep. */
export interface SessionContent {
  /** When the session ended (ms). */
  date: number;
  exercises: string[];
  partners: Record<Partner, KeptRatings>;
  agreements: KeptAgreement[];
  /** The transcript lines both ticked. */
  lines: { by: Partner | "therapist"; text: string }[];
  names: Record<Partner, string>;
}

/** A partner's private "did it happen?" about one agreement (group = the agreement's ref). */
export interface AnswerContent {
  ref: string;
  happened: "yes" | "partly" | "no";
}

/** "Start our next session": the other partner's seat link, so they join from their space. */
export interface InviteContent {
  /** The seat link of the partner who did not start it (for them to open). */
  link: string;
  for: Partner;
  createdAt: number;
  expiresAt: number;
}

/** The invited partner followed an invitation (so it is no longer offered). */
export interface JoinedContent {
  invite: string;
}

/** A time planned together, for the calendar. */
export interface PlanContent {
  title: string;
  when: string;
  minutes: number;
}
