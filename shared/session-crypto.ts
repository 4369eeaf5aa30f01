/**
 * End-to-end encryption of a session's typed words (docs/privacy.md). The sealing itself is shared with the couple's
 * space (shared/crypto.ts); this module says which key seals which text and what each text is bound to.
 *
 * Keys, one per audience, made in the browser that creates the session and carried only in link fragments:
 * - `k`, the conversation key: both partners and the therapist (everything said in the room, names, answers' notes
 *   and pick-list ideas);
 * - `n`, the notes key: the therapist alone (therapist notes);
 * - `pa` / `pb`, each partner's private key: that partner and the therapist (nudges to them, and the step-out
 *   private conversation they are part of).
 * A partner's link carries `k` and, in a therapist session, its own private key; never the other's, never `n`.
 *
 * Every sealed text is bound (as AES-GCM additional data) to the session, the seat that wrote it, the field it
 * fills, and the exercise and step it belongs to: the reader rebuilds that context from the cleartext entry, so a
 * ciphertext moved to another session, seat, field or step fails to open.
 */
import {
  importSpaceKey,
  generateSpaceKey,
  isSealedText,
  openText,
  type SecretKey,
  SpaceCryptoError,
  sealText,
} from "./crypto.ts";
import { commandTexts } from "./engine/texts.ts";
import type { Command, IdeaOrigin, Mode, Partner, Seat, SessionView } from "./protocol.ts";
import { isPartner, otherPartner } from "./protocol.ts";

/** What the room shows in place of a text that fails to open (never the ciphertext). */
export const UNOPENED_TEXT = "This message could not be opened";
/** What the room says when an encrypted session's link came without its key. */
export const MISSING_KEY_TEXT = "This link is missing its key — ask for a fresh link";

/** The keys one seat holds (absent: this link may not read that audience). */
export interface SessionKeys {
  conversation?: SecretKey;
  notes?: SecretKey;
  private: Partial<Record<Partner, SecretKey>>;
}

/** A new set of keys for a session (in the creating browser). */
export async function generateSessionKeys(): Promise<
  Required<Omit<SessionKeys, "private">> & {
    private: Record<Partner, SecretKey>;
  }
> {
  const [conversation, notes, a, b] = await Promise.all([
    generateSpaceKey(),
    generateSpaceKey(),
    generateSpaceKey(),
    generateSpaceKey(),
  ]);
  return { conversation, notes, private: { a, b } };
}

/** The fragment (without `#`) of `seat`'s link: only the keys that seat may use. */
export function keyFragmentFor(keys: SessionKeys, seat: Seat, mode: Mode): string {
  const parts: string[] = [];
  if (keys.conversation) parts.push(`k=${keys.conversation.text}`);
  if (seat === "therapist") {
    if (keys.notes) parts.push(`n=${keys.notes.text}`);
    for (const p of ["a", "b"] as const) {
      const key = keys.private[p];
      if (key) parts.push(`p${p}=${key.text}`);
    }
  } else if (mode === "therapist") {
    const own = keys.private[seat];
    if (own) parts.push(`p${seat}=${own.text}`);
  }
  return parts.join("&");
}

/** `link` with `seat`'s keys in its fragment (any fragment it had is replaced). */
export function linkWithKeys(link: string, keys: SessionKeys, seat: Seat, mode: Mode): string {
  const bare = link.split("#")[0] ?? link;
  const fragment = keyFragmentFor(keys, seat, mode);
  return fragment ? `${bare}#${fragment}` : bare;
}

/** The links a session answered with, each carrying the keys its seat may use. */
export function linksWithKeys<L extends { a: string; b: string; therapist?: string }>(
  links: L,
  keys: SessionKeys,
  mode: Mode,
): L {
  const out = { ...links, a: linkWithKeys(links.a, keys, "a", mode), b: linkWithKeys(links.b, keys, "b", mode) };
  if (links.therapist !== undefined) out.therapist = linkWithKeys(links.therapist, keys, "therapist", mode);
  return out;
}

/** The key part of a link or fragment (`…#k=…&pa=…`), or "" when it has none. */
export function keyFragmentOf(linkOrFragment: string): string {
  const at = linkOrFragment.indexOf("#");
  return at >= 0 ? linkOrFragment.slice(at + 1) : linkOrFragment.includes("k=") ? linkOrFragment : "";
}

/**
 * The keys of a fragment; an empty set when it has none. Throws SpaceCryptoError("key") when a key in it is
 * mistyped or cut short (the words say so; they never repeat the key).
 */
export async function readKeyFragment(fragment: string): Promise<SessionKeys> {
  const keys: SessionKeys = { private: {} };
  const params = new URLSearchParams(fragment.startsWith("#") ? fragment.slice(1) : fragment);
  const k = params.get("k");
  const n = params.get("n");
  if (k) keys.conversation = await importSpaceKey(k);
  if (n) keys.notes = await importSpaceKey(n);
  for (const p of ["a", "b"] as const) {
    const text = params.get(`p${p}`);
    if (text) keys.private[p] = await importSpaceKey(text);
  }
  return keys;
}

/** The keys as fragment text again, e.g. to keep them in this tab's storage. */
export function keysToFragment(keys: SessionKeys): string {
  return keyFragmentFor(keys, "therapist", "therapist");
}

/** Whether `keys` can read the conversation (every seat of an encrypted session needs that key). */
export function hasConversationKey(keys: SessionKeys | null | undefined): boolean {
  return Boolean(keys?.conversation);
}

// ---------------------------------------------------------------------------------------------------------
// Contexts: what each text is bound to

/** Where a text belongs. `sessionId` is "" for names, sealed before the session (and its id) exists. */
export interface TextPlace {
  sessionId: string;
  seat: Seat;
  /** The command and field that carried it, e.g. "say.text", "answer.note". */
  field: string;
  exerciseId?: string | undefined;
  stepId?: string | undefined;
  /** The partner a nudge went to, or whose private conversation it was. */
  partner?: Partner | undefined;
}

/** The additional data a text is bound to. */
export function textContext(place: TextPlace): string {
  return [
    "attune.session/v1",
    place.sessionId,
    place.seat,
    place.field,
    place.exerciseId ?? "",
    place.stepId ?? "",
    place.partner ?? "",
  ].join("|");
}

type Audience = "conversation" | "notes" | Partner;

function keyOf(keys: SessionKeys, audience: Audience): SecretKey | undefined {
  if (audience === "conversation") return keys.conversation;
  if (audience === "notes") return keys.notes;
  return keys.private[audience];
}

function missingKey(audience: Audience): SpaceCryptoError {
  const which =
    audience === "conversation"
      ? "the conversation"
      : audience === "notes"
        ? "therapist notes"
        : "this private channel";
  return new SpaceCryptoError("key", `${MISSING_KEY_TEXT} (it holds no key for ${which}); nothing was sent`);
}

/** Seals one text for `audience` at `place`; throws SpaceCryptoError("key") when this link lacks that key. */
async function sealFor(keys: SessionKeys, audience: Audience, place: TextPlace, text: string): Promise<string> {
  const key = keyOf(keys, audience);
  if (!key) throw missingKey(audience);
  return sealText(key, textContext(place), text);
}

/** Seals the first names given at creation (before the session has an id). */
export async function sealNames(
  keys: SessionKeys,
  names: Partial<Record<Partner, string>>,
): Promise<Partial<Record<Partner, string>>> {
  const out: Partial<Record<Partner, string>> = {};
  for (const p of ["a", "b"] as const) {
    const name = names[p];
    if (name !== undefined) out[p] = await sealFor(keys, "conversation", namePlace(p), name.trim());
  }
  return out;
}

function namePlace(p: Partner): TextPlace {
  return { sessionId: "", seat: p, field: "name" };
}

/**
 * `command` with each typed text sealed, bound to where `view` (this seat's latest view) says it goes. Commands
 * without typed text come back as they are. Throws SpaceCryptoError("key") when the link lacks the key needed.
 */
export async function sealCommand(keys: SessionKeys, view: SessionView, command: Command): Promise<Command> {
  const seat = view.you.seat;
  const base = { sessionId: view.id, seat };
  const step = { exerciseId: view.exercise?.id, stepId: view.exercise?.step.id };
  switch (command.type) {
    case "say":
    case "post":
      if (command.text === undefined) return command;
      return {
        ...command,
        text: await sealFor(keys, "conversation", { ...base, ...step, field: `${command.type}.text` }, command.text),
      };
    case "message-both":
      return {
        ...command,
        text: await sealFor(keys, "conversation", { ...base, ...step, field: "message-both.text" }, command.text),
      };
    case "guess":
      if (command.text === undefined) return command;
      return {
        ...command,
        text: await sealFor(keys, "conversation", { ...base, ...step, field: "guess.text" }, command.text),
      };
    case "agree":
      if (command.what === undefined) return command;
      return {
        ...command,
        what: await sealFor(keys, "conversation", { ...base, ...step, field: "agree.what" }, command.what),
      };
    case "answer": {
      const { note, ideas } = command.answer;
      if (note === undefined && ideas === undefined) return command;
      const answer = { ...command.answer };
      if (note !== undefined) {
        answer.note = await sealFor(keys, "conversation", { ...base, ...step, field: "answer.note" }, note);
      }
      if (ideas !== undefined) {
        // Each idea is bound to its slot: the pick step and agreements that show it later name the same slot.
        answer.ideas = await Promise.all(
          ideas.map((idea, index) =>
            sealFor(keys, "conversation", { ...base, ...step, field: ideaField(index) }, idea),
          ),
        );
      }
      return { ...command, answer };
    }
    case "reflect":
      if (command.word === undefined) return command;
      return {
        ...command,
        word: await sealFor(keys, "conversation", { ...base, field: "reflect.word" }, command.word.trim()),
      };
    case "nudge":
      return {
        ...command,
        text: await sealFor(keys, command.to, { ...base, field: "nudge.text", partner: command.to }, command.text),
      };
    case "note":
      return { ...command, text: await sealFor(keys, "notes", { ...base, field: "note.text" }, command.text) };
    case "private-message": {
      const partner = privatePartner(view);
      if (!partner) throw new SpaceCryptoError("key", "nobody is stepped out: there is no private conversation");
      return {
        ...command,
        text: await sealFor(keys, partner, { ...base, field: "private-message.text", partner }, command.text),
      };
    }
    default:
      return command;
  }
}

/** The field a pick-list idea is bound to: its slot in the writer's list, so ideas cannot be reordered or swapped. */
export function ideaField(index: number): string {
  return `answer.ideas.${index}`;
}

/** Where an idea was written, as the context it was sealed for (the exercise is the one it is shown in). */
function ideaPlace(origin: IdeaOrigin, exerciseId: string | undefined): Omit<TextPlace, "sessionId"> {
  return { seat: origin.by, field: ideaField(origin.index), exerciseId, stepId: origin.stepId };
}

/** Whether `command` carries typed text (sealed in an encrypted session). */
export function hasTypedText(command: Command): boolean {
  return commandTexts(command).length > 0;
}

/**
 * Whether `command`'s text is bound to the step the sender's view shows: it is then sent pinned to that view's
 * version (expectedVersion), so a step that moved meanwhile refuses it rather than keeping a text that cannot open.
 */
export function bindsStep(command: Command): boolean {
  return STEP_BOUND.has(command.type) && hasTypedText(command);
}

const STEP_BOUND: ReadonlySet<string> = new Set(["say", "post", "guess", "agree", "answer", "message-both"]);

/** The partner of the step-out private conversation, as this seat's view shows it. */
function privatePartner(view: SessionView): Partner | undefined {
  const seat = view.you.seat;
  if (isPartner(seat)) return seat;
  return view.steppedOut ? otherPartner(view.steppedOut) : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Opening a view

/** Opens sealed texts, remembering each one it opened (a view is opened again after every update). */
export class TextOpener {
  readonly keys: SessionKeys;
  #opened = new Map<string, string>();
  /** How many texts failed to open so far (wrong key, altered or moved). */
  failures = 0;

  constructor(keys: SessionKeys) {
    this.keys = keys;
  }

  /** The words of `sealed` at `place`, or UNOPENED_TEXT when it does not open (or is not sealed at all). */
  async open(audience: Audience, place: TextPlace, sealed: string): Promise<string> {
    const context = textContext(place);
    const memo = `${context}\u0000${sealed}`;
    const known = this.#opened.get(memo);
    if (known !== undefined) return known;
    const key = keyOf(this.keys, audience);
    let words = UNOPENED_TEXT;
    if (key && isSealedText(sealed)) {
      try {
        words = await openText(key, context, sealed);
      } catch {
        words = UNOPENED_TEXT;
      }
    }
    if (words === UNOPENED_TEXT) this.failures++;
    else if (this.#opened.size < OPENED_KEPT) this.#opened.set(memo, words);
    return words;
  }
}

/** Texts remembered by one opener (a session's worth, bounded). */
const OPENED_KEPT = 20_000;

/**
 * `view` with every sealed text replaced by its words (or UNOPENED_TEXT). An unencrypted session's view comes back
 * as it is. In an encrypted one, a text that is not sealed is not trusted either: it shows as UNOPENED_TEXT.
 */
export async function openView(opener: TextOpener, view: SessionView): Promise<SessionView> {
  if (!view.encrypted) return view;
  const id = view.id;
  const you = view.you.seat;
  const conv = (place: Omit<TextPlace, "sessionId">, text: string) =>
    opener.open("conversation", { sessionId: id, ...place }, text);
  const out: SessionView = { ...view };
  // A copied idea (a pick's options, the pick, an agreement about it) is opened where it was written; one that
  // comes without its origin cannot be checked, so it is not shown.
  const idea = async (text: string, origin: IdeaOrigin | undefined, exerciseId: string | undefined) => {
    if (origin) return conv(ideaPlace(origin, exerciseId), text);
    opener.failures++;
    return UNOPENED_TEXT;
  };
  const ideas = (list: string[], seat: Partner, exerciseId: string, stepId: string) =>
    Promise.all(list.map((text, index) => idea(text, { stepId, by: seat, index }, exerciseId)));

  const names: SessionView["names"] = {};
  for (const p of ["a", "b"] as const) {
    const name = view.names[p];
    if (name === undefined) continue;
    // A name that does not open is left out (the room then says "Partner A"): a name is not a message.
    const opened = await opener.open("conversation", namePlace(p), name);
    if (opened !== UNOPENED_TEXT) names[p] = opened;
  }
  out.names = names;

  out.transcript = await Promise.all(
    view.transcript.map(async (e) => {
      if (e.kind === "choice" && e.label !== undefined && (e.idea || isSealedText(e.label))) {
        return { ...e, label: await idea(e.label, e.idea, e.exerciseId) };
      }
      if (e.text === undefined) return e;
      const field = e.kind === "message" ? "message-both.text" : `${e.kind}.text`;
      return { ...e, text: await conv({ seat: e.seat, field, exerciseId: e.exerciseId, stepId: e.stepId }, e.text) };
    }),
  );
  out.checkIns = await Promise.all(
    view.checkIns.map(async (c) => {
      const answers = { ...c.answers };
      for (const p of ["a", "b"] as const) {
        const { note, ideas: list } = answers[p] ?? {};
        if (note !== undefined) {
          const place = { seat: p, field: "answer.note", exerciseId: c.exerciseId, stepId: c.stepId };
          answers[p] = { ...answers[p], note: await conv(place, note) };
        }
        if (list !== undefined) answers[p] = { ...answers[p], ideas: await ideas(list, p, c.exerciseId, c.stepId) };
      }
      return { ...c, answers };
    }),
  );
  out.nudges = await Promise.all(
    view.nudges.map(async (n) => ({
      ...n,
      text: await opener.open(n.to, { sessionId: id, seat: "therapist", field: "nudge.text", partner: n.to }, n.text),
    })),
  );
  out.notes = await Promise.all(
    view.notes.map(async (n) => ({
      ...n,
      text: await opener.open("notes", { sessionId: id, seat: "therapist", field: "note.text" }, n.text),
    })),
  );
  out.privateMessages = await Promise.all(
    view.privateMessages.map(async (m) => ({
      ...m,
      text: await opener.open(
        m.with,
        { sessionId: id, seat: m.seat, field: "private-message.text", partner: m.with },
        m.text,
      ),
    })),
  );
  const guessSide = async (
    side: { text?: string; choice?: string; label?: string },
    seat: Partner,
    exerciseId: string | undefined,
    stepId: string | undefined,
  ) =>
    side.text === undefined
      ? side
      : { ...side, text: await conv({ seat, field: "guess.text", exerciseId, stepId }, side.text) };
  out.guesses = await Promise.all(
    view.guesses.map(async (g) => ({
      ...g,
      answer: await guessSide(g.answer, g.about, g.exerciseId, g.stepId),
      guess: await guessSide(g.guess, otherPartner(g.about), g.exerciseId, g.stepId),
    })),
  );
  out.agreements = await Promise.all(
    view.agreements.map(async (a) => {
      const kept = { ...a };
      if (a.what !== undefined && a.option === undefined) {
        const place = { seat: a.by, field: "agree.what", exerciseId: a.exerciseId, stepId: a.stepId };
        kept.what = await conv(place, a.what);
      }
      if (a.picked !== undefined) kept.picked = await idea(a.picked, a.pickedFrom, a.exerciseId);
      return kept;
    }),
  );

  if (view.exercise) {
    const exerciseId = view.exercise.id;
    const stepId = view.exercise.step.id;
    const step = { ...view.exercise.step };
    if (step.yourAnswer?.note !== undefined) {
      const note = await conv({ seat: you, field: "answer.note", exerciseId, stepId }, step.yourAnswer.note);
      step.yourAnswer = { ...step.yourAnswer, note };
    }
    if (step.yourAnswer?.ideas !== undefined && isPartner(you)) {
      step.yourAnswer = { ...step.yourAnswer, ideas: await ideas(step.yourAnswer.ideas, you, exerciseId, stepId) };
    }
    if (step.pick) {
      const pick = step.pick;
      const options = await Promise.all(
        pick.options.map(async (o) => {
          // The id is what a pick sends: it must name the very slot the label is opened from.
          const from = pick.from;
          const slot = from !== undefined && o.id === `${o.by}-${o.index}`;
          const origin = slot ? { stepId: from, by: o.by, index: o.index } : undefined;
          return { ...o, label: await idea(o.label, origin, exerciseId) };
        }),
      );
      step.pick = { ...pick, options };
    }
    if (step.guess) {
      const guess = { ...step.guess };
      if (guess.yours && isPartner(you)) guess.yours = await guessSide(guess.yours, you, exerciseId, stepId);
      if (guess.revealed) {
        guess.revealed = {
          answer: await guessSide(guess.revealed.answer, guess.about, exerciseId, stepId),
          guess: await guessSide(guess.revealed.guess, otherPartner(guess.about), exerciseId, stepId),
        };
      }
      step.guess = guess;
    }
    const offer = step.agreement?.offer;
    if (step.agreement && offer && offer.what !== undefined && offer.option === undefined) {
      const what = await conv({ seat: offer.by, field: "agree.what", exerciseId, stepId }, offer.what);
      step.agreement = { ...step.agreement, offer: { ...offer, what } };
    }
    if (step.agreement?.picked !== undefined) {
      const picked = await idea(step.agreement.picked, step.agreement.pickedFrom, exerciseId);
      step.agreement = { ...step.agreement, picked };
    }
    out.exercise = { ...view.exercise, step };
  }

  if (view.reflection) {
    const reflection = { ...view.reflection };
    if (reflection.yours?.word !== undefined && isPartner(you)) {
      reflection.yours = {
        ...reflection.yours,
        word: await conv({ seat: you, field: "reflect.word" }, reflection.yours.word),
      };
    }
    if (reflection.revealed) {
      const heard = { ...reflection.revealed.heard };
      for (const p of ["a", "b"] as const) {
        const word = heard[p]?.word;
        if (word !== undefined) heard[p] = { ...heard[p], word: await conv({ seat: p, field: "reflect.word" }, word) };
      }
      reflection.revealed = { ...reflection.revealed, heard };
    }
    out.reflection = reflection;
  }
  return out;
}
