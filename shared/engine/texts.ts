/**
 * The words in commands: where each command carries typed text, and the one rule an encrypted session adds —
 * every such text arrives sealed (`e1.<iv>.<ct>`, see shared/crypto.ts), bounded by what its plaintext limit can
 * seal to. The engine never reads the words either way; it only checks their form and size.
 */
import { isSealedText, sealedTextMax } from "../crypto.ts";
import type { Command, CommandError, SessionCore } from "../protocol.ts";
import { ErrorCode, LIMITS } from "../protocol.ts";

/** A refusal (as model.ts's refuse; not imported, so clients that read texts need not load the engine). */
function refuse(code: CommandError["code"], message: string): CommandError {
  return { code, message };
}

/** One typed text of a command: where it sits (for messages) and its plaintext limit. */
export interface CommandText {
  path: string;
  value: string;
  max: number;
}

/**
 * The typed texts of `command`, in a fixed order. Each pick-list idea (`answer.ideas[i]`) is one: the engine copies
 * ideas into a later pick step and an agreement as they are, sealed or not, with where each was written.
 */
export function commandTexts(command: Command | { type: string }): CommandText[] {
  const c = command as Command;
  const one = (path: string, value: string | undefined, max: number): CommandText[] =>
    value === undefined ? [] : [{ path, value, max }];
  switch (c.type) {
    case "say":
    case "post":
    case "nudge":
    case "message-both":
    case "note":
    case "private-message":
      return one("text", c.text, LIMITS.textMax);
    case "guess":
      return one("text", c.text, LIMITS.guessTextMax);
    case "agree":
      return one("what", c.what, LIMITS.agreementTextMax);
    case "answer":
      return [
        ...one("answer.note", c.answer.note, LIMITS.textMax),
        ...(c.answer.ideas ?? []).map((idea, i) => ({ path: `answer.ideas[${i}]`, value: idea, max: LIMITS.ideaMax })),
      ];
    case "reflect":
      return one("word", c.word, LIMITS.reflectionWordMax);
    default:
      return [];
  }
}

/** What the session's form of text refuses in `command`, or null when every text fits. */
export function textFormProblem(state: Pick<SessionCore, "encrypted">, command: { type: string }): CommandError | null {
  for (const t of commandTexts(command)) {
    const problem = textProblem(state.encrypted === true, t.path, t.value, t.max);
    if (problem) return problem;
  }
  return null;
}

/** One text's refusal: sealed in an encrypted session, within its plaintext limit otherwise. */
export function textProblem(encrypted: boolean, path: string, value: string, max: number): CommandError | null {
  if (encrypted) {
    if (!isSealedText(value)) {
      return refuse(
        ErrorCode.TEXT_NOT_SEALED,
        `${path}: this session is end-to-end encrypted and accepts only sealed text; nothing was sent in clear`,
      );
    }
    if (value.length > sealedTextMax(max)) {
      return refuse(ErrorCode.TEXT_TOO_LONG, `${path}: text is longer than ${max} characters`);
    }
    return null;
  }
  if (value.length > max) return refuse(ErrorCode.TEXT_TOO_LONG, `${path}: text is longer than ${max} characters`);
  return null;
}
