import type { ExerciseDefinition } from "../exercise-format.ts";

/** Both answer privately (a rating, a feeling, a note); nothing shows until both have answered. */
export const checkIn = {
  id: "check-in",
  title: "Emotional check-in",
  summary: "Each of you privately rates how you feel and picks a feeling; both answers appear together.",
  intro:
    "Answer on your own. Your partner won't see your answer until you have both answered, then you'll see both at once. " +
    "Doing this at the start and the end of a session shows how things shifted.",
  cycles: 1,
  closing: "Thank you both for saying how you really are. Whatever the numbers, you know where each of you stands now.",
  steps: [
    {
      id: "feel",
      title: "How are you right now?",
      actor: "both",
      kind: "private-answer",
      prompt: {
        all: "How are you feeling right now? Pick a number from 1 (very low) to 10 (very good), choose the feeling that fits best, and add a sentence if you like.",
      },
      answer: {
        rating: { min: 1, max: 10 },
        feelings: [
          "calm",
          "happy",
          "hopeful",
          "grateful",
          "tired",
          "stressed",
          "anxious",
          "sad",
          "lonely",
          "frustrated",
          "hurt",
          "numb",
        ],
        note: true,
      },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;
