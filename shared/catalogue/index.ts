/**
 * The built-in exercise catalogue. Each definition is parsed with ExerciseSchema when this module loads,
 * so a broken catalogue entry fails loudly at startup rather than midway through a session.
 */
import { type ExerciseDefinition, ExerciseSchema } from "../exercise-format.ts";
import { appreciation } from "./appreciation.ts";
import { checkIn } from "./check-in.ts";
import { deeperQuestions } from "./deeper-questions.ts";
import { dreamsWithinConflict } from "./dreams-within-conflict.ts";
import { intentionalDialogue } from "./intentional-dialogue.ts";
import { loveMaps } from "./love-maps.ts";
import { planTime } from "./plan-time.ts";
import { rebuildingTrust } from "./rebuilding-trust.ts";
import { repair } from "./repair.ts";
import { speakerListener } from "./speaker-listener.ts";
import { stressReducing } from "./stress-reducing.ts";
import { weeklyCheckIn } from "./weekly-check-in.ts";

function load(definitions: readonly ExerciseDefinition[]): readonly ExerciseDefinition[] {
  const seen = new Set<string>();
  return Object.freeze(
    definitions.map((definition) => {
      const parsed = ExerciseSchema.safeParse(definition);
      if (!parsed.success) {
        const where = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
        throw new Error(`catalogue exercise '${definition.id}' is invalid: ${where}`);
      }
      if (seen.has(parsed.data.id)) throw new Error(`catalogue exercise id '${parsed.data.id}' is used twice`);
      seen.add(parsed.data.id);
      return parsed.data;
    }),
  );
}

/** Every built-in exercise, validated, in the order pickers show them. */
export const CATALOGUE: readonly ExerciseDefinition[] = load([
  checkIn,
  appreciation,
  intentionalDialogue,
  speakerListener,
  stressReducing,
  repair,
  loveMaps,
  deeperQuestions,
  planTime,
  weeklyCheckIn,
  dreamsWithinConflict,
  rebuildingTrust,
]);

/** Finds an exercise by id: catalogue ids win over a session's custom (uploaded) ones. */
export function findExercise(id: string, custom: readonly ExerciseDefinition[] = []): ExerciseDefinition | undefined {
  return CATALOGUE.find((e) => e.id === id) ?? custom.find((e) => e.id === id);
}

/** True when `id` is a built-in exercise id, which an uploaded definition may not reuse. */
export function isCatalogueId(id: string): boolean {
  return CATALOGUE.some((e) => e.id === id);
}
