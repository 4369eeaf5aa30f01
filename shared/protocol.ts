/**
 * The Attune protocol: one module imported by the server, the browser client and the headless participant.
 * Runtime schemas (zod) are the source of truth; TypeScript types are inferred from them.
 */
import { z } from "zod";
import { sealedTextMax } from "./crypto.ts";
import type { ExerciseDefinition, StepActor, StepKind } from "./exercise-format.ts";
import { FORMAT_LIMITS } from "./exercise-format.ts";

// ---------------------------------------------------------------------------------------------------------
// Seats, modes, channels, limits

export const PARTNERS = ["a", "b"] as const;
export const SEATS = ["a", "b", "therapist"] as const;
export type Partner = (typeof PARTNERS)[number];
export type Seat = (typeof SEATS)[number];
/** The engine also accepts commands from the server itself (presence, timers). */
export type Actor = Seat | "system";

export const MODES = ["guided", "therapist"] as const;
export type Mode = (typeof MODES)[number];
export const CHANNELS = ["spoken", "typed"] as const;
export type Channel = (typeof CHANNELS)[number];

export const LIMITS = {
  /** Longest text a partner or therapist may send in one command. */
  textMax: 2000,
  /** Longest first name. */
  nameMax: 40,
  /** Longest therapist's name for the waiting room (the same bound as a practice's display name). */
  therapistNameMax: 80,
  /** Longest agenda. */
  agendaMax: 20,
  /** Client-generated command id length bounds. */
  commandIdMin: 8,
  commandIdMax: 64,
  /** Time-out (break) length, minutes: at least 20, at most a day. */
  timeOutMinMinutes: 20,
  timeOutMaxMinutes: 24 * 60,
  timeOutDefaultMinutes: 20,
  /** Timer adjustments by a therapist, seconds. */
  timerAdjustMaxSeconds: 3600,
  /** The closing reflection's one word, and how many conversation lines a partner may choose to keep. */
  reflectionWordMax: 60,
  keptLinesMax: 30,
  /** Exercises a therapist may upload to one session. */
  customExercisesMax: 10,
  /** Longest typed answer or guess in a guess step (both wait in the session core until the reveal). */
  guessTextMax: 300,
  /** Longest single idea in a private list of ideas. */
  ideaMax: 80,
  /** Longest typed text of an agreement ("what"). */
  agreementTextMax: 200,
  /** Agreements one session keeps (in its core, so they stay bounded). */
  agreementsMax: 30,
  /** Largest seed start-exercise accepts for the order questions are drawn in (an unsigned 32-bit integer). */
  seedMax: 0xffffffff,
} as const;

export const PartnerSchema = z.enum(PARTNERS);
export const SeatSchema = z.enum(SEATS);
export const ModeSchema = z.enum(MODES);
export const ChannelSchema = z.enum(CHANNELS);

/**
 * A typed text: the words themselves in an unencrypted session, or the sealed form in an encrypted one. The schema
 * admits up to the longest sealed form of its plaintext limit; the engine then holds each session to its own form
 * and bound (shared/engine/texts.ts), so the message names the plaintext limit either way.
 */
function typedText(max: number) {
  return z.string().max(sealedTextMax(max), `text is longer than ${max} characters`);
}

const text = typedText(LIMITS.textMax);
const requiredText = text.refine((s) => s.trim().length > 0, "text is empty");

// ---------------------------------------------------------------------------------------------------------
// Error codes

export const ErrorCode = {
  // command envelope / input
  INVALID_COMMAND: "INVALID_COMMAND",
  TEXT_TOO_LONG: "TEXT_TOO_LONG",
  TEXT_REQUIRED: "TEXT_REQUIRED",
  TEXT_NOT_ALLOWED: "TEXT_NOT_ALLOWED",
  /** A string is not well-formed Unicode (e.g. a lone UTF-16 surrogate): it could not reach every seat intact. */
  INVALID_TEXT: "INVALID_TEXT",
  /** An end-to-end encrypted session received a typed text that is not sealed: it is refused, never stored. */
  TEXT_NOT_SEALED: "TEXT_NOT_SEALED",
  STALE_VERSION: "STALE_VERSION",
  RATE_LIMITED: "RATE_LIMITED",
  // turn and step rules
  NOT_YOUR_TURN: "NOT_YOUR_TURN",
  WRONG_STEP: "WRONG_STEP",
  NO_ACTIVE_EXERCISE: "NO_ACTIVE_EXERCISE",
  EXERCISE_IN_PROGRESS: "EXERCISE_IN_PROGRESS",
  UNKNOWN_EXERCISE: "UNKNOWN_EXERCISE",
  UNKNOWN_OPTION: "UNKNOWN_OPTION",
  INVALID_ANSWER: "INVALID_ANSWER",
  ALREADY_ANSWERED: "ALREADY_ANSWERED",
  DEADLINE_NOT_REACHED: "DEADLINE_NOT_REACHED",
  NO_PREVIOUS_STEP: "NO_PREVIOUS_STEP",
  NO_TIMER: "NO_TIMER",
  // session phases
  SESSION_ENDED: "SESSION_ENDED",
  /** The closing reflection waits for the end of the session. */
  SESSION_NOT_ENDED: "SESSION_NOT_ENDED",
  PAUSED: "PAUSED",
  NOT_PAUSED: "NOT_PAUSED",
  ON_TIME_OUT: "ON_TIME_OUT",
  NOT_ON_TIME_OUT: "NOT_ON_TIME_OUT",
  // seats and roles
  THERAPIST_ONLY: "THERAPIST_ONLY",
  PARTNER_ONLY: "PARTNER_ONLY",
  NOT_IN_MODE: "NOT_IN_MODE",
  NOT_ADMITTED: "NOT_ADMITTED",
  ALREADY_ADMITTED: "ALREADY_ADMITTED",
  STEPPED_OUT: "STEPPED_OUT",
  NOT_STEPPED_OUT: "NOT_STEPPED_OUT",
  ALREADY_STEPPED_OUT: "ALREADY_STEPPED_OUT",
  INVALID_DEFINITION: "INVALID_DEFINITION",
  // guess, pick and agreement steps
  /** A guess step's answers are not out yet: nothing to mark. */
  NOT_REVEALED: "NOT_REVEALED",
  /** A pick step whose ideas were never revealed (e.g. the idea step was skipped). */
  NOTHING_TO_PICK: "NOTHING_TO_PICK",
  /** An agreement does not fit its step: a missing or unasked part, or a time in the past or too far ahead. */
  INVALID_AGREEMENT: "INVALID_AGREEMENT",
  /** An agreement step has no offer waiting to be acknowledged. */
  NO_OFFER: "NO_OFFER",
  /** The session already keeps LIMITS.agreementsMax agreements. */
  TOO_MANY_AGREEMENTS: "TOO_MANY_AGREEMENTS",
  TOO_MANY_EXERCISES: "TOO_MANY_EXERCISES",
  // handshake and transport
  TOKEN_MISSING: "TOKEN_MISSING",
  TOKEN_UNKNOWN: "TOKEN_UNKNOWN",
  TOKEN_EXPIRED: "TOKEN_EXPIRED",
  TOKEN_REVOKED: "TOKEN_REVOKED",
  ORIGIN_NOT_ALLOWED: "ORIGIN_NOT_ALLOWED",
  SESSION_NOT_FOUND: "SESSION_NOT_FOUND",
  SEAT_TAKEN_OVER: "SEAT_TAKEN_OVER",
  UNAUTHORIZED: "UNAUTHORIZED",
  INTERNAL: "INTERNAL",
  /**
   * The store did not say whether the command was written (it timed out or the connection dropped mid-write): it
   * may have been applied. Resend the same envelope (same id) to learn which; it is never applied twice.
   */
  OUTCOME_UNKNOWN: "OUTCOME_UNKNOWN",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface CommandError {
  code: ErrorCode;
  message: string;
}

// ---------------------------------------------------------------------------------------------------------
// Commands (client -> server, one `command` event with an acknowledgement)

/** A partner's answer to "Is this a safe time and place to talk?", asked alone in the waiting room. */
export const SAFETY_ANSWERS = ["yes", "not-now", "alone-first"] as const;
export type SafetyAnswer = (typeof SAFETY_ANSWERS)[number];

export const CheckInAnswerSchema = z.strictObject({
  rating: z.number().int().min(0).max(100).optional(),
  feeling: z.string().trim().min(1).max(40).optional(),
  note: text.optional(),
  /** A short private list (a step whose answer asks for ideas), revealed with the rest of the answer. */
  ideas: z
    .array(
      // Kept as written (the engine never edits what a partner typed); only an empty idea is refused.
      // Sealed in an encrypted session (bound to its slot, see shared/session-crypto.ts), so the schema admits the
      // longest sealed form and the engine holds each session to its own form and bound (shared/engine/texts.ts).
      z
        .string()
        .max(sealedTextMax(LIMITS.ideaMax), `an idea is longer than ${LIMITS.ideaMax} characters`)
        .refine((idea) => idea.trim().length > 0, "an idea is empty"),
    )
    .min(1)
    .max(FORMAT_LIMITS.ideasMax)
    .optional(),
});
export type CheckInAnswer = z.infer<typeof CheckInAnswerSchema>;

/** The marks either partner may give a revealed guess: a gentle word, never a score. */
export const GUESS_MARKS = [
  { id: "close", label: "Close" },
  { id: "not-quite", label: "Not quite" },
] as const;
export type GuessMark = (typeof GUESS_MARKS)[number]["id"];

const optionId = z.string().min(1).max(64);
/** A date-time with an offset (or Z), so every seat and a calendar read the same moment. */
const isoDateTime = z.iso
  .datetime({
    offset: true,
    message: "must be an ISO 8601 date-time with an offset, e.g. 2026-05-01T19:30:00+02:00",
  })
  // A date-time with milliseconds and an offset is 29 characters; the bound keeps the core small.
  .max(40, "must be at most 40 characters");

export const CommandSchema = z.discriminatedUnion("type", [
  // --- the exercise itself
  /** Start an exercise: the next on the agenda by default. Guided: either partner; therapist mode: therapist. */
  z.strictObject({
    type: z.literal("start-exercise"),
    exerciseId: z.string().min(1).max(64).optional(),
    firstSpeaker: PartnerSchema.optional(),
    /** Orders the questions the exercise draws (the client picks it at random; the engine stays deterministic). */
    seed: z.number().int().min(0).max(LIMITS.seedMax).optional(),
  }),
  /** A "say" step: typed channel carries text, spoken channel carries none (the actor spoke aloud). */
  z.strictObject({ type: z.literal("say"), text: text.optional() }),
  /** A "choose" step: pick one of the step's options. */
  z.strictObject({ type: z.literal("choose"), option: z.string().min(1).max(64) }),
  /** In the lobby: the partner who speaks first in the next exercise, agreed and visible on both phones. */
  z.strictObject({ type: z.literal("set-first-speaker"), partner: PartnerSchema }),
  /** A "private-answer" step: one partner's private answer, revealed when both have answered. */
  z.strictObject({ type: z.literal("answer"), answer: CheckInAnswerSchema }),
  /** A "guess" step: the speaker's answer about themself, or the listener's guess of it (by role), kept private until both are in. */
  z.strictObject({
    type: z.literal("guess"),
    text: typedText(LIMITS.guessTextMax).optional(),
    choice: optionId.optional(),
  }),
  /** A revealed guess: either partner says how close it was (and the step moves on). */
  z.strictObject({ type: z.literal("mark"), mark: z.enum(["close", "not-quite"]) }),
  /** A "pick" step: one of the revealed ideas, by option id (e.g. "b-0"). */
  z.strictObject({ type: z.literal("pick"), option: optionId }),
  /** An "agreement" step: record (or offer) what was agreed — a short text or an option, and/or a time. */
  z.strictObject({
    type: z.literal("agree"),
    what: typedText(LIMITS.agreementTextMax).optional(),
    option: optionId.optional(),
    when: isoDateTime.optional(),
  }),
  /** An "agreement" step: the other partner acknowledges the offer, which is then kept. */
  z.strictObject({ type: z.literal("acknowledge") }),
  /** A typed message during a "talk" step. */
  z.strictObject({ type: z.literal("post"), text: requiredText }),
  /** The speaker ends a "talk" step (or any timed turn) before its timer. */
  z.strictObject({ type: z.literal("end-turn") }),
  /** Time is up on a timed step: accepted only once the deadline has passed. */
  z.strictObject({ type: z.literal("time-up") }),
  // --- safety: a time-out (break) either partner may call at any step
  z.strictObject({
    type: z.literal("call-time-out"),
    minutes: z.number().int().min(LIMITS.timeOutMinMinutes).max(LIMITS.timeOutMaxMinutes).optional(),
  }),
  z.strictObject({ type: z.literal("end-time-out") }),
  // --- pacing (guided: either partner; therapist mode: the therapist)
  z.strictObject({ type: z.literal("pause") }),
  z.strictObject({ type: z.literal("resume") }),
  z.strictObject({ type: z.literal("end-exercise") }),
  z.strictObject({ type: z.literal("end-session") }),
  // --- therapist only
  z.strictObject({ type: z.literal("admit"), partners: z.array(PartnerSchema).min(1).max(2) }),
  z.strictObject({ type: z.literal("skip-step") }),
  z.strictObject({ type: z.literal("back-step") }),
  z.strictObject({ type: z.literal("hand-floor") }),
  z.strictObject({
    type: z.literal("adjust-timer"),
    seconds: z
      .number()
      .int()
      .min(-LIMITS.timerAdjustMaxSeconds)
      .max(LIMITS.timerAdjustMaxSeconds)
      .refine((n) => n !== 0, "seconds must not be 0"),
  }),
  z.strictObject({ type: z.literal("nudge"), to: PartnerSchema, text: requiredText }),
  z.strictObject({ type: z.literal("message-both"), text: requiredText }),
  z.strictObject({ type: z.literal("note"), text: requiredText }),
  z.strictObject({ type: z.literal("step-out"), partner: PartnerSchema }),
  z.strictObject({ type: z.literal("bring-back") }),
  z.strictObject({ type: z.literal("add-exercise"), definition: z.unknown() }),
  // --- private channel while one partner is stepped out (therapist and the partner who stayed)
  z.strictObject({ type: z.literal("private-message"), text: requiredText }),
  // --- safety in therapist sessions: seen by the therapist alone, never by the other partner
  /** A partner, alone in the waiting room: is this a safe time and place to talk? */
  z.strictObject({ type: z.literal("safety-check"), answer: z.enum(SAFETY_ANSWERS) }),
  /** A partner's quiet signal: "I'd like to talk to my therapist alone". */
  z.strictObject({ type: z.literal("ask-alone") }),
  /** The therapist has seen a partner's signal. */
  z.strictObject({ type: z.literal("seen-ask"), partner: PartnerSchema }),
  // --- the closing reflection, after the session ended: answered alone, revealed together
  z.strictObject({
    type: z.literal("reflect"),
    /** How heard this partner felt today, 1 to 10. */
    heard: z.number().int().min(1).max(10),
    /** One word for it, if they like. */
    word: z.string().trim().min(1).max(sealedTextMax(LIMITS.reflectionWordMax)).optional(),
    /** Whether to keep this session in the couple's space; it is kept only if both say yes. */
    keep: z.boolean(),
    /** Conversation entries (by their version `v`) this partner would keep; only lines both chose are kept. */
    lines: z.array(z.number().int().min(1)).max(LIMITS.keptLinesMax).optional(),
  }),
]);
export type Command = z.infer<typeof CommandSchema>;
export type CommandType = Command["type"];
export const COMMAND_TYPES = CommandSchema.options.map((o) => o.shape.type.value) as CommandType[];

/** Commands only the server issues (presence changes). */
export type SystemCommand = { type: "presence"; seat: Seat; online: boolean } | { type: "time-up" };

/** The envelope of the `command` socket event. */
export const CommandEnvelopeSchema = z.strictObject({
  /** Client-generated id: a retried envelope with the same id is applied once. */
  id: z
    .string()
    .min(LIMITS.commandIdMin)
    .max(LIMITS.commandIdMax)
    .regex(/^[A-Za-z0-9_-]+$/),
  /** Optional: refuse with STALE_VERSION unless the session is still at this version. */
  expectedVersion: z.number().int().min(0).optional(),
  command: CommandSchema,
});
export type CommandEnvelope = z.infer<typeof CommandEnvelopeSchema>;

/**
 * The answer to a `command`. Applied: the new version and, when the server can say it as changes, the acting
 * seat's own update (which then comes in no separate `update` event); a retried command that was already applied
 * is answered without it (the client catches up by resync). Refused: why.
 */
export type CommandAck = { ok: true; version: number; update?: ViewUpdate } | { ok: false; error: CommandError };

// ---------------------------------------------------------------------------------------------------------
// Session creation (REST)

export const CreateSessionSchema = z.strictObject({
  mode: ModeSchema,
  channel: ChannelSchema,
  agenda: z.array(z.string().min(1).max(64)).max(LIMITS.agendaMax).optional(),
  /** First names: in clear in an unencrypted session, sealed (shared/session-crypto.ts) in an encrypted one. */
  names: z
    .strictObject({
      a: z
        .string()
        .trim()
        .min(1)
        .max(sealedTextMax(LIMITS.nameMax), `text is longer than ${LIMITS.nameMax} characters`)
        .optional(),
      b: z
        .string()
        .trim()
        .min(1)
        .max(sealedTextMax(LIMITS.nameMax), `text is longer than ${LIMITS.nameMax} characters`)
        .optional(),
    })
    .optional(),
  /**
   * End-to-end encryption of every typed text (docs/privacy.md). Absent: on for a typed session, off for a spoken
   * one; `false` turns it off. The keys never reach the server: the creating browser adds them to the links.
   */
  encrypted: z.boolean().optional(),
  /**
   * Therapist mode: how the therapist is named to a partner in the waiting room ("Dr Rivera will let you in
   * shortly"); absent, the waiting room says "your therapist".
   */
  therapistName: z.string().trim().min(1).max(LIMITS.therapistNameMax).optional(),
  /**
   * `false`: every timed step of this session runs without a timer (no deadline, no countdown, no time-up), so
   * nobody is rushed (WCAG 2.2 SC 2.2.1). Absent or `true`: steps keep the durations their exercises give.
   */
  timers: z.boolean().optional(),
});
export type CreateSessionRequest = z.infer<typeof CreateSessionSchema>;

export interface CreateSessionResponse {
  id: string;
  links: { a: string; b: string; therapist?: string };
  expiresAt: number;
}

// ---------------------------------------------------------------------------------------------------------
// Session state (authoritative, held by the store; never sent as is)

export interface TranscriptEntry {
  /** Version at which the entry was written. */
  v: number;
  at: number;
  seat: Seat;
  /** say: a step's contribution; choice: an option picked; post: a talk message; message: therapist to both. */
  kind: "say" | "choice" | "post" | "message";
  exerciseId?: string;
  stepId?: string;
  /** Typed text (absent in spoken mode, where the entry records that the step was done aloud). */
  text?: string;
  /** For a choice: the option id and its label. */
  option?: string;
  label?: string;
  /** For a pick: where the picked idea (the label) was written. */
  idea?: IdeaOrigin;
}

/**
 * Where a pick-list idea was written: the private-answer step that asked for it, the partner who wrote it and its
 * slot in their list. It travels with the idea wherever the engine copies it (a pick's options, the pick, an
 * agreement about it), so a reader can rebuild the context a sealed idea is bound to (docs/privacy.md).
 */
export interface IdeaOrigin {
  stepId: string;
  by: Partner;
  index: number;
}

export interface RevealedCheckIn {
  v: number;
  at: number;
  exerciseId: string;
  stepId: string;
  answers: Record<Partner, CheckInAnswer>;
}

export interface Nudge {
  v: number;
  at: number;
  to: Partner;
  text: string;
}

export interface TherapistNote {
  v: number;
  at: number;
  text: string;
}

export interface PrivateMessage {
  v: number;
  at: number;
  seat: Seat;
  /** The partner who was in the room (the other one was stepped out). */
  with: Partner;
  text: string;
}

/** One side of a guess step: a typed text, a choice (with its label), or nothing (held in mind, spoken channel). */
export interface GuessEntry {
  text?: string;
  choice?: string;
  label?: string;
}

/** A guess step once both sides were in: the speaker's answer about themself and the listener's guess. */
export interface RevealedGuess {
  v: number;
  at: number;
  exerciseId: string;
  stepId: string;
  /** The partner the question was about (who answered; the other guessed). */
  about: Partner;
  /** The question asked, when the step drew one. */
  question?: { deck: string; index: number; text: string };
  answer: GuessEntry;
  guess: GuessEntry;
}

/** What a couple agreed in an agreement step: kept in the session core for the summary, their space and a calendar. */
export interface Agreement {
  /** Version and time at which it was kept (acknowledged, when the step asks for that). */
  v: number;
  at: number;
  exerciseId: string;
  stepId: string;
  /** Who offered (or recorded) it. */
  by: Seat;
  /** The partner who acknowledged it, when someone had to. */
  acknowledgedBy?: Partner;
  /** What: typed text, or the label of the chosen option. */
  what?: string;
  /** The option chosen for "what", when one was. */
  option?: string;
  /** The idea picked earlier in the exercise that this agreement is about, and where it was written. */
  picked?: string;
  pickedFrom?: IdeaOrigin;
  /** When: an ISO 8601 date-time with offset, in the future when agreed. */
  when?: string;
}

/** An agreement offered and waiting for the other partner. */
export interface AgreementOffer {
  by: Seat;
  at: number;
  what?: string;
  option?: string;
  when?: string;
}

/** One applied command, with everything needed to replay it (kept beside the state, never inside it). */
export interface LogEntry {
  v: number;
  at: number;
  actor: Actor;
  command: Command | SystemCommand;
}

/** How many of the latest steps a turn remembers for back-step: enough to go back, bounded so a turn stays small. */
export const TURN_HISTORY_MAX = 32;

export interface TurnState {
  exerciseId: string;
  stepId: string;
  /** Cycles completed so far in this exercise (0-based count of the current cycle). */
  cycle: number;
  speaker: Partner;
  /** Index of the step within the exercise's steps, for progress. */
  stepIndex: number;
  stepStartedAt: number;
  /** Timestamp (ms) when a timed step's time is up; absent for untimed steps or while paused. */
  deadline?: number;
  /** While paused or on a time-out: what remained of the timer. */
  remainingMs?: number;
  /** Private answers collected in this step (hidden from the other partner until both answered). */
  answers: Partial<Record<Partner, CheckInAnswer>>;
  /** A "say" step acted by "both": the partners who have already said their part in it. */
  said?: Partner[];
  /** The latest steps visited in this exercise (at most TURN_HISTORY_MAX), for back-step. */
  history: { stepId: string; speaker: Partner; cycle: number; question?: DrawnQuestion }[];
  // --- what the exercise carries from step to step (bounded by its definition)
  /** start-exercise's seed: the order questions are drawn in (absent: each deck's own order). */
  seed?: number;
  /** The version of the command that began the current round (cycle): conversation entries after it belong to it. */
  roundFrom?: number;
  /** How many questions each deck has given so far. */
  draws?: Record<string, number>;
  /** Ideas revealed in the exercise, by the private-answer step that asked for them (a pick step's options). */
  ideas?: Record<string, Record<Partner, string[]>>;
  /** What each pick step of the exercise settled on. */
  picked?: Record<string, { option: string; text: string; from?: IdeaOrigin }>;
  // --- the current step's own state
  /** The question this step shows. */
  question?: DrawnQuestion;
  /** A guess step: each partner's side, hidden from the other partner and the therapist until both are in. */
  guesses?: Partial<Record<Partner, GuessEntry>>;
  /** A guess step: both sides are in and shown to everyone. */
  revealed?: boolean;
  /** A pick step acted by both: each partner's current pick (open, not private: they are agreeing). */
  picks?: Partial<Record<Partner, string>>;
  /** An agreement step: the offer waiting for the other partner. */
  offer?: AgreementOffer;
}

/** A question drawn from a deck: which deck, which question, and how many the deck has given (1-based). */
export interface DrawnQuestion {
  deck: string;
  index: number;
  number: number;
}

/**
 * The small, bounded part of a session that every command reads and writes. Its size does not grow with the
 * conversation: a command's cost stays the same however long the couple has talked.
 */
export interface SessionCore {
  id: string;
  mode: Mode;
  channel: Channel;
  /** Increases by exactly one per applied command. */
  version: number;
  createdAt: number;
  names: Partial<Record<Partner, string>>;
  /** Therapist mode: the name the therapist gave for the waiting room (never part of any seat's view). */
  therapistName?: string;
  agenda: string[];
  /** Index in the agenda of the next exercise start-exercise picks by default. */
  agendaNext: number;
  /** Exercises uploaded for this session (therapist mode); only ever appended to. */
  custom: ExerciseDefinition[];
  phase: "lobby" | "exercise" | "ended";
  turn: TurnState | null;
  /** Exercises finished in this session, in order. */
  completed: CompletedExercise[];
  /** The partner the couple agreed speaks first in the next exercise (set in the lobby; absent: partner a). */
  firstSpeaker?: Partner;
  /** Set when the session was created without timers: no step ever gets a deadline. */
  untimed?: true;
  /** Set when every typed text of the session is sealed end to end: the engine refuses any other. */
  encrypted?: true;
  presence: Record<Seat, boolean>;
  /** Therapist mode: partners admitted from the waiting room (always both in guided mode). */
  admitted: Record<Partner, boolean>;
  paused: { at: number; by: Actor } | null;
  timeOut: { by: Partner; at: number; returnAt: number } | null;
  /** Therapist mode: the partner sent to the private waiting space. */
  steppedOut: Partner | null;
  /** Therapist mode: what each partner said privately about safety. Only the therapist ever sees the other's. */
  safety: PartnerSafety;
  /** What the couple agreed in agreement steps, oldest first (at most LIMITS.agreementsMax). */
  agreements: Agreement[];
  /** The closing reflection of each partner, once the session ended (hidden from the other until both answered). */
  reflections: Partial<Record<Partner, Reflection>>;
  /** Floor time per partner (absent until the first exercise starts, and in cores stored before it existed). */
  airtime?: Airtime;
}

/** An exercise that ended: how (its whole course, one of its named endings, or ended early, and by whom). */
export interface CompletedExercise {
  exerciseId: string;
  at: number;
  /** Ended before its course was run (end-exercise or end-session). */
  endedEarly: boolean;
  /** The definition's ending the exercise reached (a transition's `ending`). */
  ending?: string;
  /** Who ended it early. */
  by?: Actor;
}

/** A completed exercise as a seat sees it: with its title, its outcome and its closing words. */
export interface CompletedView extends CompletedExercise {
  title: string;
  /** complete: ran its course (or a complete ending); stopped: ended early or a stopped ending; postponed: put off to an agreed time. */
  outcome: "complete" | "stopped" | "postponed";
  /** The closing words of the path it took (absent when ended early, or when the definition has none). */
  words?: string;
  /** The title of the named ending it reached. */
  endingTitle?: string;
}

/** One partner's share of the floor: how long they held it (ms, not counting paused or frozen time) and how many turns. */
export interface FloorShare {
  ms: number;
  turns: number;
}

/** Airtime of one exercise run: each partner's share of the floor while it ran. */
export interface AirtimeRun {
  exerciseId: string;
  startedAt: number;
  a: FloorShare;
  b: FloorShare;
}

/** A finished turn at holding the floor: who, for how long, and when it ended. */
export interface FloorTurn {
  speaker: Partner;
  ms: number;
  exerciseId: string;
  endedAt: number;
}

/**
 * Who held the floor and for how long, measured by the engine from the moments commands applied (time passed in).
 * The therapist sees it; a partner never does (a guided speaker gets only a kind suggestion, see floorSuggestion).
 */
export interface Airtime {
  session: Record<Partner, FloorShare>;
  /** One entry per exercise started, oldest first (at most AIRTIME_RUNS_MAX). */
  runs: AirtimeRun[];
  /** The latest finished turns, oldest first (at most AIRTIME_TURNS_MAX): the recent trend. */
  turns: FloorTurn[];
  /** The turn being held now: ms counted so far, and since when it runs (null while the timer is frozen). */
  floor: { speaker: Partner; exerciseId: string; ms: number; since: number | null } | null;
}

export const AIRTIME_RUNS_MAX = 40;
export const AIRTIME_TURNS_MAX = 12;

/** One partner's closing reflection. */
export interface Reflection {
  heard: number;
  word?: string;
  keep: boolean;
  lines: number[];
  at: number;
}

/** The closing reflection as a seat sees it. */
export interface ReflectionView {
  /** This partner's own answer, once given. */
  yours?: Reflection;
  /** Whether each partner has answered (never what). */
  answered: Record<Partner, boolean>;
  /** Once both answered: how heard each felt, and what the couple decided to keep (both must have said yes). */
  revealed?: {
    heard: Record<Partner, { heard: number; word?: string }>;
    /** The decision and the lines both chose; the therapist's view leaves these out. */
    keep?: boolean;
    lines?: number[];
  };
}

/** A partner's private safety answers (therapist mode). */
export interface PartnerSafety {
  /** The waiting room's "Is this a safe time and place to talk?", per partner. */
  checks: Partial<Record<Partner, { answer: SafetyAnswer; at: number }>>;
  /** "I'd like to talk to my therapist alone", per partner: when, and whether the therapist has seen it. */
  asks: Partial<Record<Partner, { at: number; seen: boolean }>>;
}

/** The lists a session only ever appends to: the conversation and what is said around it. */
export const CONVERSATION_KEYS = ["transcript", "checkIns", "nudges", "notes", "privateMessages", "guesses"] as const;
export type ConversationKey = (typeof CONVERSATION_KEYS)[number];

export interface Conversation {
  transcript: TranscriptEntry[];
  checkIns: RevealedCheckIn[];
  nudges: Nudge[];
  notes: TherapistNote[];
  privateMessages: PrivateMessage[];
  /** Guess steps once revealed. */
  guesses: RevealedGuess[];
}

/** The whole session: the core plus its conversation. Held by the store; never sent as is. */
export interface SessionState extends SessionCore, Conversation {}

/** What one applied command added: new entries of conversation lists, and newly uploaded exercises. */
export type Appended = Partial<Conversation> & { custom?: ExerciseDefinition[] };

// ---------------------------------------------------------------------------------------------------------
// Views (what one seat may see; the only form in which state leaves the server)

export interface StepView {
  id: string;
  title: string;
  kind: StepKind;
  actor: StepActor;
  /** This seat's role in the step. */
  role: "speaker" | "listener" | "therapist";
  /** Whether this seat is expected to act in this step. */
  yourMove: boolean;
  prompt: string;
  stems: string[];
  /** The earlier steps whose words this step responds to (quoted above the answer), and which of them. */
  answers?: { steps: string[]; gather: "latest" | "round" };
  options?: { id: string; label: string }[];
  answerFields?: ExerciseDefinition["steps"][number]["answer"];
  deadline?: number;
  remainingMs?: number;
  durationSeconds?: number;
  /** The exercise times this step, but the session was created without timers: it waits for the people in it. */
  untimed?: true;
  /** Private-answer steps: who has answered (never what). */
  answered?: Partial<Record<Partner, boolean>>;
  /** Private-answer steps: this seat's own answer, if given. */
  yourAnswer?: CheckInAnswer;
  /** The question drawn for this step. */
  question?: { text: string; deck: string; deckTitle?: string; number: number; count: number };
  /** The therapist only: each partner's role, prompt and whether the step waits for them, as their screen shows it. */
  partners?: Record<Partner, { role: "speaker" | "listener"; prompt: string; yourMove: boolean }>;
  /** Guess steps. */
  guess?: GuessStepView;
  /** Pick steps. */
  pick?: PickStepView;
  /** Agreement steps. */
  agreement?: AgreementStepView;
}

export interface GuessStepView {
  /** The partner the question is about: they answer, the other guesses. */
  about: Partner;
  /** Pick-one answers, when the step has them. */
  choices?: { id: string; label: string }[];
  /** Who has given their side (never what). */
  submitted: Record<Partner, boolean>;
  /** This partner's own side, before the reveal. */
  yours?: GuessEntry;
  /** Both sides, once both are in (to every seat). */
  revealed?: { answer: GuessEntry; guess: GuessEntry };
  /** Once revealed: the marks either partner may give. */
  marks?: { id: GuessMark; label: string }[];
}

export interface PickStepView {
  /** True when both partners must pick the same option (actor "both"). */
  together: boolean;
  /** The private-answer step whose ideas these are (absent only when the step names none: then it has no options). */
  from?: string;
  /** The revealed ideas, alternating between the partners: `by` wrote it, in slot `index` of their list. */
  options: { id: string; label: string; by: Partner; index: number }[];
  /** Together: each partner's current pick. */
  picks?: Partial<Record<Partner, string>>;
}

export interface AgreementStepView {
  what?: "required" | "optional";
  when?: "required" | "optional";
  withinHours?: number;
  options?: { id: string; label: string }[];
  /** Whether the other partner acknowledges an offer before it is kept (always so with actor "both"). */
  needsAcknowledgement: boolean;
  /** The idea picked earlier that this agreement is about, and where it was written. */
  picked?: string;
  pickedFrom?: IdeaOrigin;
  /** The offer waiting for an answer, with the chosen option's label. */
  offer?: AgreementOffer & { label?: string };
}

export interface AllowedCommand {
  type: CommandType;
  allowed: boolean;
  /** When not allowed: the error code. */
  code?: ErrorCode;
  /**
   * When not allowed: a sentence the client can show beside the disabled control — absent for WRONG_STEP (a
   * command of another kind of step, which has no control on this one; a refused command's ack still says why).
   */
  reason?: string;
}

export interface SessionView {
  id: string;
  version: number;
  you: { seat: Seat };
  mode: Mode;
  channel: Channel;
  /** Every typed text (and the names) is sealed: the client opens it with its link's keys. */
  encrypted?: true;
  names: Partial<Record<Partner, string>>;
  phase: SessionState["phase"];
  presence: Record<Seat, boolean>;
  admitted: Record<Partner, boolean>;
  /** True when this seat is a partner still in the waiting room: the view then carries nothing else of the session. */
  waiting: boolean;
  /** `turns`: whether the exercise has a speaker and a listener (then someone agrees to speak first). */
  agenda: { id: string; title: string; summary: string; turns: boolean }[];
  agendaNext: number;
  completed: CompletedView[];
  /** The partner agreed to speak first in the next exercise (both partners see and may change it in the lobby). */
  firstSpeaker: Partner;
  exercise: null | {
    id: string;
    title: string;
    intro?: string;
    stepIndex: number;
    stepCount: number;
    cycle: number;
    cycles?: number;
    /** The version that began this round: the conversation entries after it are this round's. */
    roundFrom: number;
    speaker: Partner;
    listener: Partner;
    step: StepView;
  };
  paused: SessionState["paused"];
  timeOut: SessionState["timeOut"];
  /** Therapist: who is stepped out. A partner: whether they are the one stepped out (and nothing more). */
  steppedOut: Partner | null;
  transcript: TranscriptEntry[];
  checkIns: RevealedCheckIn[];
  /** A partner sees only the nudges sent to them; the therapist sees all. */
  nudges: Nudge[];
  /** Therapist only (always empty for partners). */
  notes: TherapistNote[];
  /** Therapist and the partner in the private conversation only. */
  privateMessages: PrivateMessage[];
  /** The therapist only: both partners' private safety answers. */
  safety?: PartnerSafety;
  /** After the session ended: the closing reflection (partners and, once revealed, the therapist). */
  reflection?: ReflectionView;
  /** A partner only: their own safety answer and signal, and nothing of the other's. */
  yourSafety?: { check?: SafetyAnswer; asked?: { at: number; seen: boolean } };
  /** Revealed guess steps. */
  guesses: RevealedGuess[];
  /** What the couple agreed in this session. */
  agreements: Agreement[];
  /** The therapist only: who held the floor, for how long, per exercise and for the session. */
  airtime?: Airtime;
  /**
   * Guided sessions, the partner holding the floor only: from this moment on (if they still hold it) they have had
   * far more of the floor than their partner, and the room may kindly suggest handing it over. Never a number.
   * Null for a guided partner without one; absent for every other seat.
   */
  floorSuggestion?: { from: number } | null;
  allowed: AllowedCommand[];
}

/** The view fields an update may replace whole (the conversation lists grow by `append`, `allowed` by entry). */
export type ViewField = Exclude<keyof SessionView, ConversationKey | "allowed" | "version">;

/**
 * What changed in one seat's view with one applied command: never the whole transcript. Applied to the view at
 * version `from` it gives exactly the view a fresh snapshot gives at `version` (see applyUpdate in shared/delta.ts).
 */
export interface ViewUpdate {
  /** The version of the view this update leads to. */
  version: number;
  /** The version of the view it applies to; a client at any other version waits for the missing one or resyncs. */
  from: number;
  /** Top-level fields whose value changed, each with its new value. */
  set?: { [K in ViewField]?: SessionView[K] };
  /** Entries appended to the conversation lists this seat sees. */
  append?: Partial<Pick<SessionView, ConversationKey>>;
  /** Entries of `allowed` that changed, each replacing the entry of its command type. */
  allowed?: AllowedCommand[];
  /**
   * The fields of `exercise` that changed while the same exercise goes on (its step, its round, who speaks),
   * merged into the exercise the view has; never together with `set.exercise`.
   */
  exercise?: Partial<NonNullable<SessionView["exercise"]>>;
  /**
   * The whole view instead of the changes, sent only when what the seat may see of older entries changed with
   * this command (admitted from the waiting room, stepped out, brought back); then set, append and allowed are absent.
   */
  view?: SessionView;
  /** The events of the command this seat may know about. */
  events: EngineEvent[];
}

/** Events the engine reports with an applied command; the server forwards each to its audience. */
export type EngineEvent =
  | { type: "turn-changed"; speaker: Partner; stepId: string; exerciseId: string }
  | { type: "step-changed"; stepId: string; exerciseId: string }
  | { type: "exercise-started"; exerciseId: string }
  | { type: "exercise-ended"; exerciseId: string; endedEarly: boolean }
  | { type: "revealed"; exerciseId: string; stepId: string }
  | { type: "agreed"; exerciseId: string; stepId: string }
  | { type: "paused" }
  | { type: "resumed" }
  | { type: "time-out-called"; by: Partner; returnAt: number }
  | { type: "time-out-ended" }
  | { type: "nudged"; to: Partner }
  | { type: "admitted"; partner: Partner }
  | { type: "stepped-out"; partner: Partner }
  /** Both partners gave their closing reflection: it is revealed. */
  | { type: "reflected" }
  /** A partner asked to talk to the therapist alone (the therapist's audience only). */
  | { type: "alone-asked"; partner: Partner }
  /** A partner answered the waiting room's safety question (the therapist's audience only). */
  | { type: "safety-answered"; partner: Partner }
  | { type: "brought-back" }
  | { type: "session-ended" };

// ---------------------------------------------------------------------------------------------------------
// Socket.IO event maps (used as generics on Server<> and Socket<>)

export interface ServerToClientEvents {
  /** The full view for this seat; sent on connect, on request and after a gap. */
  snapshot: (view: SessionView) => void;
  /** After each applied command: what changed in this seat's view, and the events it may know about. */
  update: (msg: ViewUpdate) => void;
  /** Sent to a socket that is about to be disconnected (e.g. SEAT_TAKEN_OVER, session ended and erased). */
  notice: (msg: { code: ErrorCode; message: string }) => void;
}

export interface ClientToServerEvents {
  command: (envelope: CommandEnvelope, ack: (ack: CommandAck) => void) => void;
  /** Ask for a fresh snapshot (after a detected version gap). */
  resync: (ack?: (view: SessionView) => void) => void;
}

// ---------------------------------------------------------------------------------------------------------
// Text at the boundary

/** A lone UTF-16 surrogate: under the `u` flag a well-formed pair is one code point and does not match. */
const LONE_SURROGATE = /\p{Cs}/u;
const SCAN_DEPTH_MAX = 32;

/**
 * The path of the first string (value or key) in `value` that is not well-formed Unicode, or null when all are.
 * Such text is refused at the boundary: JSON, msgpack and UTF-8 transports would each mend it differently, so two
 * seats could read different words at one version.
 */
export function illFormedTextAt(value: unknown, path = "", depth = 0): string | null {
  if (typeof value === "string") return LONE_SURROGATE.test(value) ? path || "(text)" : null;
  if (value === null || typeof value !== "object" || depth > SCAN_DEPTH_MAX) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = illFormedTextAt(value[i], `${path}[${i}]`, depth + 1);
      if (at) return at;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    const here = path ? `${path}.${key}` : key;
    if (LONE_SURROGATE.test(key)) return here;
    const at = illFormedTextAt(item, here, depth + 1);
    if (at) return at;
  }
  return null;
}

/** The refusal for ill-formed text found at `path`. */
export function illFormedTextError(path: string): CommandError {
  return {
    code: ErrorCode.INVALID_TEXT,
    message: `${path}: contains characters that are not valid Unicode (a lone surrogate); please retype it`,
  };
}

/** Narrows a seat to a partner. */
export function isPartner(seat: Seat | Actor): seat is Partner {
  return seat === "a" || seat === "b";
}

/** The other partner. */
export function otherPartner(p: Partner): Partner {
  return p === "a" ? "b" : "a";
}
