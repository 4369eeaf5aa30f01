/** Exercise definitions that tests upload as a therapist (the same JSON a therapist would paste). */
import type { ExerciseDefinition } from "../../shared/exercise-format.ts";

/** A small valid two-step exercise: one thank-you, reflected back. */
export const GRATITUDE_MINUTE = {
  id: "gratitude-minute",
  title: "Gratitude minute",
  summary: "One thank-you, reflected back.",
  cycles: 1,
  modes: ["therapist"],
  steps: [
    {
      id: "thank",
      title: "Say thank you",
      actor: "speaker",
      kind: "say",
      prompt: { speaker: "Thank your partner for one small thing from this week.", all: "Listen." },
      next: { to: "reflect" },
    },
    {
      id: "reflect",
      title: "Reflect it back",
      actor: "listener",
      kind: "say",
      prompt: { listener: "Say back what you heard.", all: "Listen to it come back." },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;
