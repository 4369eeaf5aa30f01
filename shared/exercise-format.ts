/**
 * The declarative exercise definition format. Exercises are data: the engine interprets them, so a new
 * exercise (from the catalogue or uploaded by a therapist as JSON) needs no engine change.
 * See docs/exercise-format.md for the prose description and a complete example.
 */
import { z } from "zod";

/** Who acts in a step, relative to the current turn: roles swap between cycles, seats do not. */
export const STEP_ACTORS = ["speaker", "listener", "both", "therapist"] as const;
export type StepActor = (typeof STEP_ACTORS)[number];

/**
 * What a step asks for:
 * - say: the actor says one thing (typed: a text; spoken: they speak aloud and tap "done").
 * - choose: the actor picks one of the step's options; each option names its own transition.
 * - private-answer: each partner answers privately (rating, feeling, optional note); nothing is shown to
 *   the other partner until both have answered, then both answers are revealed at once.
 * - talk: an open, usually timed turn; the speaker holds the floor and ends it (or the timer does); in typed
 *   mode both partners may post messages during it.
 * - guess: the speaker answers a question about themself and the listener guesses that answer, each privately;
 *   both come out together, then either partner marks the guess "close" or "not quite" (no points, no score).
 * - pick: the ideas both partners gave in an earlier private-answer step become the options; the actor picks
 *   one, or (actor "both") the two partners must pick the same one.
 * - agreement: what the couple agreed (a short text and/or a date-time), kept in the session; one partner may
 *   offer it and the other acknowledge it.
 */
export const STEP_KINDS = ["say", "choose", "private-answer", "talk", "guess", "pick", "agreement"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** Special transition targets: end the exercise, or finish this cycle (roles swap, next cycle starts). */
export const END = "@end";
export const CYCLE = "@cycle";

const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "must be lowercase letters, digits and single hyphens (e.g. 'check-in')");

const promptText = z.string().min(1).max(600);
/** Limits of the definition parts the new kinds add (kept small: definitions live in the session core). */
export const FORMAT_LIMITS = {
  decksMax: 8,
  questionsMax: 100,
  questionMax: 300,
  guessChoicesMin: 2,
  guessChoicesMax: 8,
  ideasMax: 5,
  agreementOptionsMax: 6,
  /** The furthest ahead an agreed time may be: a year. */
  withinHoursMax: 366 * 24,
  /** Steps one step may answer, and endings one exercise may name. */
  answersMax: 4,
  endingsMax: 8,
} as const;
const stems = z.array(z.string().min(1).max(200)).max(8);

/** Where a step leads: another step of this exercise, "@end", or "@cycle"; optionally swapping roles. */
export const TransitionSchema = z.strictObject({
  to: z.string().min(1).max(64),
  /** Swap speaker and listener on the way (turns inside one stage, e.g. in repair). */
  swapRoles: z.boolean().optional(),
  /** With `to: "@end"`: which of the exercise's `endings` this path reaches (its own closing words and outcome). */
  ending: slug.optional(),
});
export type Transition = z.infer<typeof TransitionSchema>;

export const OptionSchema = z.strictObject({
  id: slug,
  label: z.string().min(1).max(80),
  next: TransitionSchema,
});
export type StepOption = z.infer<typeof OptionSchema>;

/** Text shown per role; "all" is shown to every role that has no text of its own. */
export const RoleTextSchema = z.strictObject({
  speaker: promptText.optional(),
  listener: promptText.optional(),
  therapist: promptText.optional(),
  all: promptText.optional(),
});
export type RoleText = z.infer<typeof RoleTextSchema>;

export const AnswerFieldsSchema = z.strictObject({
  rating: z.strictObject({ min: z.number().int().min(0).max(10), max: z.number().int().min(1).max(100) }).optional(),
  feelings: z.array(z.string().min(1).max(40)).min(2).max(24).optional(),
  note: z.boolean().optional(),
  /** A short private list (e.g. ideas for time together): each partner gives 1 to `max` items. A later pick step can offer them. */
  ideas: z.strictObject({ max: z.number().int().min(1).max(FORMAT_LIMITS.ideasMax) }).optional(),
});
export type AnswerFields = z.infer<typeof AnswerFieldsSchema>;

/** A labelled choice with no transition of its own (guess choices, agreement options). */
export const LabelSchema = z.strictObject({ id: slug, label: z.string().min(1).max(80) });
export type Label = z.infer<typeof LabelSchema>;

/** A deck of questions an exercise draws from (Love maps, Deeper questions). */
export const DeckSchema = z.strictObject({
  id: slug,
  /** Shown beside the question, e.g. "Set 2 of 3". */
  title: z.string().min(1).max(80).optional(),
  questions: z.array(z.string().min(1).max(FORMAT_LIMITS.questionMax)).min(1).max(FORMAT_LIMITS.questionsMax),
});
export type Deck = z.infer<typeof DeckSchema>;

/**
 * The question a step shows, from one of the exercise's decks. "next" (the default) draws the deck's next
 * question on entering the step; "same" shows again the question that deck gave last in this exercise.
 */
export const StepQuestionSchema = z.strictObject({
  deck: slug,
  draw: z.enum(["next", "same"]).optional(),
});

/** A guess step: how the answer is given, and what each role reads once both are revealed. */
export const GuessFieldsSchema = z.strictObject({
  /** Pick-one answers (both channels). Without them the answer is typed (typed channel) or held in mind (spoken). */
  choices: z.array(LabelSchema).min(FORMAT_LIMITS.guessChoicesMin).max(FORMAT_LIMITS.guessChoicesMax).optional(),
  /** The prompt once both are revealed (per role), e.g. "How close was the guess?". */
  reveal: RoleTextSchema,
});
export type GuessFields = z.infer<typeof GuessFieldsSchema>;

/** A pick step: where its options come from. */
export const PickFieldsSchema = z.strictObject({
  /** A private-answer step of this exercise that asks for ideas: both partners' revealed ideas are the options. */
  from: slug,
});

/** Whether a part of an agreement is asked for, and whether it must be given. */
const ask = z.enum(["required", "optional"]);

/** An agreement step: what is agreed, and who agrees. */
export const AgreementFieldsSchema = z.strictObject({
  /** A short text (typed channel), or one of `options` (both channels). */
  what: ask.optional(),
  /** A date and time (ISO 8601 with an offset), in the future. */
  when: ask.optional(),
  /** The time must fall within this many hours of the moment it is offered (e.g. 24: "within the next day"). */
  withinHours: z.number().int().min(1).max(FORMAT_LIMITS.withinHoursMax).optional(),
  /** Ready-made answers for `what` (the only way to give one in the spoken channel). */
  options: z.array(LabelSchema).min(1).max(FORMAT_LIMITS.agreementOptionsMax).optional(),
  /** Actor speaker or listener: the other partner acknowledges the offer before it is kept. */
  acknowledge: z.boolean().optional(),
  /** A pick step of this exercise: the agreement is about the idea picked there. */
  picked: slug.optional(),
});
export type AgreementFields = z.infer<typeof AgreementFieldsSchema>;

/**
 * One way an exercise can end, other than running its whole course: its own title and closing words, and whether
 * the exercise then counts as finished ("complete", the default), stopped ("stopped") or put off to an agreed
 * time ("postponed").
 */
export const EndingSchema = z.strictObject({
  id: slug,
  title: z.string().min(1).max(80),
  words: z.string().min(1).max(400),
  outcome: z.enum(["complete", "stopped", "postponed"]).optional(),
});
export type Ending = z.infer<typeof EndingSchema>;

/** The steps a step answers, as a list (the definition may name one as a string). */
export function answeredSteps(step: Pick<StepDefinition, "answers">): string[] {
  if (step.answers === undefined) return [];
  return typeof step.answers === "string" ? [step.answers] : [...step.answers];
}

export const StepSchema = z.strictObject({
  id: slug,
  title: z.string().min(1).max(80),
  actor: z.enum(STEP_ACTORS),
  kind: z.enum(STEP_KINDS),
  prompt: RoleTextSchema,
  stems: z.strictObject({ speaker: stems.optional(), listener: stems.optional(), all: stems.optional() }).optional(),
  /** Optional time box in seconds; the engine keeps the deadline as a timestamp. */
  durationSeconds: z.number().int().min(10).max(7200).optional(),
  /** For kind "choose": the choices, each with its own transition. */
  options: z.array(OptionSchema).min(1).max(6).optional(),
  /** For kind "private-answer": which fields each partner fills in. */
  answer: AnswerFieldsSchema.optional(),
  /** For kind "guess": how the answer is given and the words after the reveal. */
  guess: GuessFieldsSchema.optional(),
  /** For kind "pick": where the options come from. */
  pick: PickFieldsSchema.optional(),
  /** For kind "agreement": what is agreed and who agrees. */
  agreement: AgreementFieldsSchema.optional(),
  /** Any kind: a question drawn from one of the exercise's decks, shown with the prompt. */
  question: StepQuestionSchema.optional(),
  /** Where the step leads when it completes (not used by "choose", whose options lead). */
  next: TransitionSchema.optional(),
  /**
   * The earlier step (or steps) of this exercise whose words this step responds to, e.g. a mirror answers the
   * share. The room quotes those words, with the partner's name, right above this step's answer.
   */
  answers: z.union([slug, z.array(slug).min(1).max(FORMAT_LIMITS.answersMax)]).optional(),
  /**
   * Which of those words are quoted: "latest" (the default) what was said there since this step last answered in
   * this round; "round" everything said there in this round (e.g. for a summary of the whole round).
   */
  gather: z.enum(["latest", "round"]).optional(),
});
export type StepDefinition = z.infer<typeof StepSchema>;

const ExerciseBase = z.strictObject({
  id: slug,
  title: z.string().min(1).max(80),
  /** One line for pickers. */
  summary: z.string().min(1).max(200),
  /** Longer guidance shown before the exercise starts. */
  intro: z.string().min(1).max(1200).optional(),
  /**
   * The words a session created without timers shows instead, for an exercise whose summary or intro speak of its
   * timed turns (see `wordsForSession`). Only an exercise with a timed step has them.
   */
  untimed: z
    .strictObject({
      summary: z.string().min(1).max(200).optional(),
      intro: z.string().min(1).max(1200).optional(),
    })
    .optional(),
  /** How many cycles run before the exercise ends; omitted = until someone ends it (e.g. the floor). */
  cycles: z.number().int().min(1).max(20).optional(),
  /** Modes the exercise may run in (default: both). Steps acted by the therapist need "therapist". */
  modes: z
    .array(z.enum(["guided", "therapist"]))
    .min(1)
    .optional(),
  /** Question decks the steps draw from (see a step's `question`). */
  decks: z.array(DeckSchema).min(1).max(FORMAT_LIMITS.decksMax).optional(),
  steps: z.array(StepSchema).min(1).max(60),
  /** The closing words when the exercise runs its whole course (every path to "@end" without an `ending`). */
  closing: z.string().min(1).max(400).optional(),
  /** Other ways the exercise can end, each reached by transitions that name it (`next: { to: "@end", ending }`). */
  endings: z.array(EndingSchema).min(1).max(FORMAT_LIMITS.endingsMax).optional(),
});

export const ExerciseSchema = ExerciseBase.superRefine((def, ctx) => {
  const ids = new Set<string>();
  def.steps.forEach((step, i) => {
    if (ids.has(step.id)) {
      ctx.addIssue({ code: "custom", path: ["steps", i, "id"], message: `duplicate step id '${step.id}'` });
    }
    ids.add(step.id);
  });
  const endingIds = new Set<string>();
  def.endings?.forEach((ending, i) => {
    if (endingIds.has(ending.id)) {
      ctx.addIssue({ code: "custom", path: ["endings", i, "id"], message: `duplicate ending id '${ending.id}'` });
    }
    endingIds.add(ending.id);
  });
  const checkTarget = (t: Transition, path: (string | number)[]) => {
    if (t.to !== END && t.to !== CYCLE && !ids.has(t.to)) {
      ctx.addIssue({
        code: "custom",
        path: [...path, "to"],
        message: `unknown step '${t.to}' (use a step id of this exercise, '${END}' or '${CYCLE}')`,
      });
    }
    if (t.ending !== undefined) {
      if (t.to !== END) {
        ctx.addIssue({ code: "custom", path: [...path, "ending"], message: `an ending goes with to: '${END}'` });
      } else if (!endingIds.has(t.ending)) {
        ctx.addIssue({
          code: "custom",
          path: [...path, "ending"],
          message: `unknown ending '${t.ending}' (declare it in the exercise's 'endings')`,
        });
      }
    }
  };
  def.steps.forEach((step, i) => {
    const at = ["steps", i];
    if (step.kind === "choose") {
      if (!step.options) {
        ctx.addIssue({ code: "custom", path: [...at, "options"], message: "a 'choose' step needs options" });
      } else {
        const optionIds = new Set<string>();
        step.options.forEach((o, j) => {
          if (optionIds.has(o.id)) {
            ctx.addIssue({
              code: "custom",
              path: [...at, "options", j, "id"],
              message: `duplicate option id '${o.id}'`,
            });
          }
          optionIds.add(o.id);
          checkTarget(o.next, [...at, "options", j, "next"]);
        });
      }
      if (step.next) {
        ctx.addIssue({
          code: "custom",
          path: [...at, "next"],
          message: "a 'choose' step leads by its options, not 'next'",
        });
      }
      if (step.actor === "both") {
        ctx.addIssue({
          code: "custom",
          path: [...at, "actor"],
          message: "a 'choose' step needs one actor, not 'both'",
        });
      }
    } else {
      if (step.options) {
        ctx.addIssue({
          code: "custom",
          path: [...at, "options"],
          message: `only 'choose' steps have options, not '${step.kind}'`,
        });
      }
      if (!step.next) {
        ctx.addIssue({ code: "custom", path: [...at, "next"], message: `a '${step.kind}' step needs 'next'` });
      } else {
        checkTarget(step.next, [...at, "next"]);
      }
    }
    if (step.kind === "private-answer") {
      if (step.actor !== "both") {
        ctx.addIssue({
          code: "custom",
          path: [...at, "actor"],
          message: "a 'private-answer' step is answered by 'both'",
        });
      }
      const a = step.answer;
      if (!a || (!a.rating && !a.feelings && !a.note && !a.ideas)) {
        ctx.addIssue({
          code: "custom",
          path: [...at, "answer"],
          message: "a 'private-answer' step needs at least one of rating, feelings, note, ideas",
        });
      } else if (a.rating && a.rating.min >= a.rating.max) {
        ctx.addIssue({
          code: "custom",
          path: [...at, "answer", "rating"],
          message: "rating.min must be below rating.max",
        });
      }
    } else if (step.answer) {
      ctx.addIssue({ code: "custom", path: [...at, "answer"], message: "only 'private-answer' steps have 'answer'" });
    }
    checkNewKinds(def, step, at, (path, message) => ctx.addIssue({ code: "custom", path, message }));
    checkAnswers(def, step, at, (path, message) => ctx.addIssue({ code: "custom", path, message }));
    // Whoever must act needs words on screen: an empty prompt would leave them guessing.
    const p = step.prompt;
    const actorHasPrompt =
      p.all !== undefined ||
      (step.actor === "both" ? p.speaker !== undefined && p.listener !== undefined : p[step.actor] !== undefined);
    if (!actorHasPrompt) {
      ctx.addIssue({
        code: "custom",
        path: [...at, "prompt"],
        message:
          step.actor === "both"
            ? "a step acted by 'both' needs prompt 'all' (or both 'speaker' and 'listener')"
            : `a step acted by the ${step.actor} needs prompt '${step.actor}' or 'all'`,
      });
    }
    if (step.kind === "talk" && step.actor !== "speaker") {
      ctx.addIssue({ code: "custom", path: [...at, "actor"], message: "a 'talk' step is held by the 'speaker'" });
    }
    if (step.actor === "therapist" && def.modes && !def.modes.includes("therapist")) {
      ctx.addIssue({
        code: "custom",
        path: [...at, "actor"],
        message: "a step acted by the therapist needs modes to include 'therapist'",
      });
    }
  });
  const deckIds = new Set<string>();
  def.decks?.forEach((deck, i) => {
    if (deckIds.has(deck.id)) {
      ctx.addIssue({ code: "custom", path: ["decks", i, "id"], message: `duplicate deck id '${deck.id}'` });
    }
    deckIds.add(deck.id);
  });
  if (def.untimed && !def.steps.some((s) => s.durationSeconds !== undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["untimed"],
      message: "only an exercise with a timed step has untimed words",
    });
  }
  if (def.untimed?.intro !== undefined && def.intro === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["untimed", "intro"],
      message: "an untimed intro replaces the 'intro', so set one",
    });
  }
  if (def.steps.some((s) => s.actor === "therapist") && !def.modes) {
    ctx.addIssue({
      code: "custom",
      path: ["modes"],
      message: 'an exercise with therapist steps must set modes: ["therapist"]',
    });
  }
});
export type ExerciseDefinition = z.infer<typeof ExerciseSchema>;

/**
 * The exercise as a session runs it: a session created without timers reads the exercise's untimed summary and
 * intro where it declares them, so no line promises a timer the session will not run. Steps are never changed.
 */
export function wordsForSession(def: ExerciseDefinition, session: { untimed?: true }): ExerciseDefinition {
  if (!session.untimed || !def.untimed) return def;
  return {
    ...def,
    summary: def.untimed.summary ?? def.summary,
    ...(def.intro !== undefined ? { intro: def.untimed.intro ?? def.intro } : {}),
  };
}

type Issue = (path: (string | number)[], message: string) => void;

/** The rules of the guess, pick and agreement kinds, of idea answers and of drawn questions, for one step. */
function checkNewKinds(def: z.infer<typeof ExerciseBase>, step: StepDefinition, at: (string | number)[], issue: Issue) {
  const kindField = { guess: "guess", pick: "pick", agreement: "agreement" } as const;
  for (const [kind, field] of Object.entries(kindField) as [keyof typeof kindField, "guess" | "pick" | "agreement"][]) {
    const a = kind === "agreement" ? "an" : "a";
    if (step.kind === kind && step[field] === undefined) issue([...at, field], `${a} '${kind}' step needs '${field}'`);
    if (step.kind !== kind && step[field] !== undefined) issue([...at, field], `only '${kind}' steps have '${field}'`);
  }
  if ((step.kind === "guess" || step.kind === "pick" || step.kind === "agreement") && step.durationSeconds) {
    // Running out of time would skip the reveal, the pick or the agreement the step exists for.
    issue([...at, "durationSeconds"], `${step.kind === "agreement" ? "an" : "a"} '${step.kind}' step is not timed`);
  }
  if (step.kind === "guess") {
    if (step.actor !== "both") {
      issue([...at, "actor"], "a 'guess' step is acted by 'both' (the speaker answers, the listener guesses)");
    }
    const reveal = step.guess?.reveal;
    if (reveal && reveal.all === undefined && (reveal.speaker === undefined || reveal.listener === undefined)) {
      issue(
        [...at, "guess", "reveal"],
        "the reveal needs words for both partners: 'all', or both 'speaker' and 'listener'",
      );
    }
    duplicateIds(step.guess?.choices, [...at, "guess", "choices"], "choice", issue);
  }
  if (step.kind === "pick") {
    if (step.actor === "therapist") issue([...at, "actor"], "a 'pick' step is the couple's: speaker, listener or both");
    const from = step.pick?.from;
    if (from !== undefined) {
      const source = def.steps.find((s) => s.id === from);
      if (!source) issue([...at, "pick", "from"], `unknown step '${from}'`);
      else if (source.kind !== "private-answer" || !source.answer?.ideas) {
        issue([...at, "pick", "from"], `step '${from}' must be a 'private-answer' step that asks for ideas`);
      }
    }
  }
  const a = step.agreement;
  if (step.kind === "agreement" && a) {
    const path = [...at, "agreement"];
    if (!a.what && !a.when) issue(path, "an agreement needs 'what', 'when' or both");
    if (a.withinHours !== undefined && !a.when) issue([...path, "withinHours"], "'withinHours' needs 'when'");
    if (a.options && !a.what)
      issue([...path, "options"], "'options' are answers for 'what', which this step does not ask");
    duplicateIds(a.options, [...path, "options"], "option", issue);
    if (a.acknowledge && step.actor !== "speaker" && step.actor !== "listener") {
      issue(
        [...path, "acknowledge"],
        step.actor === "both"
          ? "with actor 'both' one partner offers and the other acknowledges already; leave 'acknowledge' out"
          : "only an agreement offered by the speaker or the listener can be acknowledged by the other partner",
      );
    }
    if (a.picked !== undefined) {
      const source = def.steps.find((s) => s.id === a.picked);
      if (!source) issue([...path, "picked"], `unknown step '${a.picked}'`);
      else if (source.kind !== "pick") issue([...path, "picked"], `step '${a.picked}' must be a 'pick' step`);
    }
  }
  if (step.question && !def.decks?.some((d) => d.id === step.question?.deck)) {
    issue([...at, "question", "deck"], `unknown deck '${step.question.deck}' (declare it in the exercise's 'decks')`);
  }
}

/** An answering step names earlier say or talk steps of a partner (never itself); `gather` needs `answers`. */
function checkAnswers(def: z.infer<typeof ExerciseBase>, step: StepDefinition, at: (string | number)[], issue: Issue) {
  if (step.gather !== undefined && step.answers === undefined) issue([...at, "gather"], "'gather' needs 'answers'");
  const list = answeredSteps(step);
  list.forEach((id, j) => {
    const path = typeof step.answers === "string" ? [...at, "answers"] : [...at, "answers", j];
    const source = def.steps.find((s) => s.id === id);
    if (id === step.id) issue(path, "a step cannot answer itself");
    else if (!source) issue(path, `unknown step '${id}'`);
    else if (source.kind !== "say" && source.kind !== "talk") {
      issue(path, `step '${id}' must be a 'say' or 'talk' step: only words can be answered`);
    } else if (source.actor !== "speaker" && source.actor !== "listener") {
      issue(path, `step '${id}' must be acted by the speaker or the listener: one partner's words`);
    }
  });
  if (list.length > 0 && step.actor !== "speaker" && step.actor !== "listener") {
    issue([...at, "actor"], "a step that answers a partner's words is acted by the speaker or the listener");
  }
}

function duplicateIds(list: readonly Label[] | undefined, path: (string | number)[], what: string, issue: Issue) {
  const seen = new Set<string>();
  list?.forEach((item, i) => {
    if (seen.has(item.id)) issue([...path, i, "id"], `duplicate ${what} id '${item.id}'`);
    seen.add(item.id);
  });
}

/** One precise validation problem: where (a JSON path like steps[2].options[0].next.to) and what. */
export interface DefinitionProblem {
  path: string;
  message: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || "(root)";
}

/** Validates an untrusted definition (e.g. uploaded JSON); every problem says exactly where it is. */
export function validateExercise(
  input: unknown,
): { ok: true; definition: ExerciseDefinition } | { ok: false; problems: DefinitionProblem[] } {
  const result = ExerciseSchema.safeParse(input);
  if (result.success) return { ok: true, definition: result.data };
  return {
    ok: false,
    // An unknown key is reported at the key itself (steps[0].colour), not at the object holding it.
    problems: result.error.issues.flatMap((issue) =>
      issue.code === "unrecognized_keys"
        ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: `unknown field '${key}'` }))
        : [{ path: formatPath(issue.path), message: issue.message }],
    ),
  };
}
