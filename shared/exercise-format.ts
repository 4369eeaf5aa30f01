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
 */
export const STEP_KINDS = ["say", "choose", "private-answer", "talk"] as const;
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
const stems = z.array(z.string().min(1).max(200)).max(8);

/** Where a step leads: another step of this exercise, "@end", or "@cycle"; optionally swapping roles. */
export const TransitionSchema = z.strictObject({
  to: z.string().min(1).max(64),
  /** Swap speaker and listener on the way (turns inside one stage, e.g. in repair). */
  swapRoles: z.boolean().optional(),
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
});
export type AnswerFields = z.infer<typeof AnswerFieldsSchema>;

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
  /** Where the step leads when it completes (not used by "choose", whose options lead). */
  next: TransitionSchema.optional(),
});
export type StepDefinition = z.infer<typeof StepSchema>;

export const ExerciseSchema = z
  .strictObject({
    id: slug,
    title: z.string().min(1).max(80),
    /** One line for pickers. */
    summary: z.string().min(1).max(200),
    /** Longer guidance shown before the exercise starts. */
    intro: z.string().min(1).max(1200).optional(),
    /** How many cycles run before the exercise ends; omitted = until someone ends it (e.g. the floor). */
    cycles: z.number().int().min(1).max(20).optional(),
    /** Modes the exercise may run in (default: both). Steps acted by the therapist need "therapist". */
    modes: z.array(z.enum(["guided", "therapist"])).min(1).optional(),
    steps: z.array(StepSchema).min(1).max(60),
  })
  .superRefine((def, ctx) => {
    const ids = new Set<string>();
    def.steps.forEach((step, i) => {
      if (ids.has(step.id)) {
        ctx.addIssue({ code: "custom", path: ["steps", i, "id"], message: `duplicate step id '${step.id}'` });
      }
      ids.add(step.id);
    });
    const checkTarget = (t: Transition, path: (string | number)[]) => {
      if (t.to !== END && t.to !== CYCLE && !ids.has(t.to)) {
        ctx.addIssue({
          code: "custom",
          path: [...path, "to"],
          message: `unknown step '${t.to}' (use a step id of this exercise, '${END}' or '${CYCLE}')`,
        });
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
              ctx.addIssue({ code: "custom", path: [...at, "options", j, "id"], message: `duplicate option id '${o.id}'` });
            }
            optionIds.add(o.id);
            checkTarget(o.next, [...at, "options", j, "next"]);
          });
        }
        if (step.next) {
          ctx.addIssue({ code: "custom", path: [...at, "next"], message: "a 'choose' step leads by its options, not 'next'" });
        }
        if (step.actor === "both") {
          ctx.addIssue({ code: "custom", path: [...at, "actor"], message: "a 'choose' step needs one actor, not 'both'" });
        }
      } else {
        if (step.options) {
          ctx.addIssue({ code: "custom", path: [...at, "options"], message: `only 'choose' steps have options, not '${step.kind}'` });
        }
        if (!step.next) {
          ctx.addIssue({ code: "custom", path: [...at, "next"], message: `a '${step.kind}' step needs 'next'` });
        } else {
          checkTarget(step.next, [...at, "next"]);
        }
      }
      if (step.kind === "private-answer") {
        if (step.actor !== "both") {
          ctx.addIssue({ code: "custom", path: [...at, "actor"], message: "a 'private-answer' step is answered by 'both'" });
        }
        const a = step.answer;
        if (!a || (!a.rating && !a.feelings && !a.note)) {
          ctx.addIssue({
            code: "custom",
            path: [...at, "answer"],
            message: "a 'private-answer' step needs at least one of rating, feelings, note",
          });
        } else if (a.rating && a.rating.min >= a.rating.max) {
          ctx.addIssue({ code: "custom", path: [...at, "answer", "rating"], message: "rating.min must be below rating.max" });
        }
      } else if (step.answer) {
        ctx.addIssue({ code: "custom", path: [...at, "answer"], message: "only 'private-answer' steps have 'answer'" });
      }
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
    if (def.steps.some((s) => s.actor === "therapist") && !def.modes) {
      ctx.addIssue({
        code: "custom",
        path: ["modes"],
        message: "an exercise with therapist steps must set modes: [\"therapist\"]",
      });
    }
  });
export type ExerciseDefinition = z.infer<typeof ExerciseSchema>;

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
