/**
 * Domain-shaped storage of therapists' practices: the practice itself (a display name and the hashes of its two
 * standing links), its exercise library, and the partners waiting at its standing room link. Two implementations
 * (MemoryPracticeStore here, RedisPracticeStore in practice-redis.ts) pass one contract suite
 * (tests/contract/practice-store.test.ts).
 *
 * No client content is kept in a practice: the library holds the therapist's own exercises, and a waiting partner
 * (a first name, a ticket hash, their page's public key and, once started, which session and seat wait for them,
 * with that seat's keys sealed to their page) is held only until they take their seat or their wait expires.
 */
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";

/** A practice as stored: never a link itself, only the SHA-256 hashes of its owner and room tokens. */
export interface PracticeRecord {
  id: string;
  displayName: string;
  createdAt: number;
  /** Hash of the therapist's private practice token. */
  ownerHash: string;
  /** Hash of the current standing room token. */
  roomHash: string;
  /** Bumped each time the standing room link is changed (the room token is derived from it). */
  roomVersion: number;
  /** A short, non-reversible tag of the API key that opened the practice (for the audit trail). */
  keyTag: string;
}

/** A partner waiting at the standing room link. */
export interface WaitingPartner {
  id: string;
  firstName: string;
  since: number;
  /** When this wait is forgotten unless the partner is started into a session before. */
  expiresAt: number;
  /** Hash of the waiting partner's ticket (their only credential). */
  ticketHash: string;
  /**
   * The waiting page's ECDH public key (shared/key-exchange.ts), listed to the practice so its console can wrap the
   * session's keys for this page; absent for a page (or an API client) that sent none.
   */
  publicKey?: string;
  /**
   * Once started: the session and seat waiting for them (their token is issued when they next ask) and, for an
   * encrypted session, that seat's keys wrapped to their public key (handed to their page once, with the token).
   */
  seat?: { sessionId: string; seat: "a" | "b"; wrappedKeys?: string };
}

/** Bounds that keep a practice small. */
export const PRACTICE_LIMITS = {
  exercisesMax: 50,
  waitingMax: 20,
  displayNameMax: 80,
  firstNameMax: 40,
} as const;

export interface PracticeStore {
  /** Stores a new practice (its id must be new). */
  createPractice(practice: PracticeRecord): Promise<void>;
  /** The practice, or null when unknown. */
  getPractice(id: string): Promise<PracticeRecord | null>;
  /** Renames the practice; false when unknown. */
  renamePractice(id: string, displayName: string): Promise<boolean>;
  /** Replaces the standing room link (its hash and version); false when unknown. */
  changeRoomLink(id: string, roomHash: string, roomVersion: number): Promise<boolean>;
  /** The library, in the order exercises were first saved. */
  listExercises(id: string): Promise<ExerciseDefinition[]>;
  /**
   * Adds an exercise, or replaces the one with the same id (keeping its place). "full" when a new id would go over
   * PRACTICE_LIMITS.exercisesMax; "missing" when the practice is unknown.
   */
  saveExercise(id: string, definition: ExerciseDefinition): Promise<"ok" | "full" | "missing">;
  /** Removes an exercise from the library; false when there was none with that id. */
  deleteExercise(id: string, exerciseId: string): Promise<boolean>;
  /** Adds a waiting partner. "full" when PRACTICE_LIMITS.waitingMax unexpired partners already wait. */
  addWaiting(id: string, partner: WaitingPartner, now: number): Promise<"ok" | "full" | "missing">;
  /** The partners still waiting at `now` (not expired), oldest first. */
  listWaiting(id: string, now: number): Promise<WaitingPartner[]>;
  /** The waiting partner holding the ticket of this hash, unless expired. */
  findWaiting(id: string, ticketHash: string, now: number): Promise<WaitingPartner | null>;
  /** Marks a waiting partner as started (their sealed seat) and keeps them until `expiresAt`; false when gone. */
  seatWaiting(
    id: string,
    waitingId: string,
    seat: NonNullable<WaitingPartner["seat"]>,
    expiresAt: number,
  ): Promise<boolean>;
  /**
   * Forgets a waiting partner (they took their seat, or left). True only for the one call that removed them, so
   * of two simultaneous calls exactly one learns it did.
   */
  removeWaiting(id: string, waitingId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The practice store of a single process. */
export class MemoryPracticeStore implements PracticeStore {
  readonly #practices = new Map<string, PracticeRecord>();
  readonly #exercises = new Map<string, Map<string, ExerciseDefinition>>();
  readonly #waiting = new Map<string, Map<string, WaitingPartner>>();

  async createPractice(practice: PracticeRecord): Promise<void> {
    if (this.#practices.has(practice.id)) throw new Error(`practice ${practice.id} exists`);
    this.#practices.set(practice.id, structuredClone(practice));
    this.#exercises.set(practice.id, new Map());
    this.#waiting.set(practice.id, new Map());
  }

  async getPractice(id: string): Promise<PracticeRecord | null> {
    const p = this.#practices.get(id);
    return p ? structuredClone(p) : null;
  }

  async renamePractice(id: string, displayName: string): Promise<boolean> {
    const p = this.#practices.get(id);
    if (!p) return false;
    p.displayName = displayName;
    return true;
  }

  async changeRoomLink(id: string, roomHash: string, roomVersion: number): Promise<boolean> {
    const p = this.#practices.get(id);
    if (!p) return false;
    p.roomHash = roomHash;
    p.roomVersion = roomVersion;
    return true;
  }

  async listExercises(id: string): Promise<ExerciseDefinition[]> {
    return [...(this.#exercises.get(id)?.values() ?? [])].map((d) => structuredClone(d));
  }

  async saveExercise(id: string, definition: ExerciseDefinition): Promise<"ok" | "full" | "missing"> {
    const library = this.#exercises.get(id);
    if (!library) return "missing";
    if (!library.has(definition.id) && library.size >= PRACTICE_LIMITS.exercisesMax) return "full";
    library.set(definition.id, structuredClone(definition));
    return "ok";
  }

  async deleteExercise(id: string, exerciseId: string): Promise<boolean> {
    return this.#exercises.get(id)?.delete(exerciseId) ?? false;
  }

  #live(id: string, now: number): Map<string, WaitingPartner> | undefined {
    const waiting = this.#waiting.get(id);
    if (!waiting) return undefined;
    for (const [key, w] of waiting) if (w.expiresAt <= now) waiting.delete(key);
    return waiting;
  }

  async addWaiting(id: string, partner: WaitingPartner, now: number): Promise<"ok" | "full" | "missing"> {
    const waiting = this.#live(id, now);
    if (!waiting) return "missing";
    if (waiting.size >= PRACTICE_LIMITS.waitingMax) return "full";
    waiting.set(partner.id, structuredClone(partner));
    return "ok";
  }

  async listWaiting(id: string, now: number): Promise<WaitingPartner[]> {
    const waiting = this.#live(id, now);
    return [...(waiting?.values() ?? [])].sort((x, y) => x.since - y.since).map((w) => structuredClone(w));
  }

  async findWaiting(id: string, ticketHash: string, now: number): Promise<WaitingPartner | null> {
    const found = [...(this.#live(id, now)?.values() ?? [])].find((w) => w.ticketHash === ticketHash);
    return found ? structuredClone(found) : null;
  }

  async seatWaiting(
    id: string,
    waitingId: string,
    seat: NonNullable<WaitingPartner["seat"]>,
    expiresAt: number,
  ): Promise<boolean> {
    const w = this.#waiting.get(id)?.get(waitingId);
    if (!w) return false;
    w.seat = { ...seat };
    w.expiresAt = expiresAt;
    return true;
  }

  async removeWaiting(id: string, waitingId: string): Promise<boolean> {
    return this.#waiting.get(id)?.delete(waitingId) ?? false;
  }

  async close(): Promise<void> {}
}
