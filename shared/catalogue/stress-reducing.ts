import type { ExerciseDefinition } from "../exercise-format.ts";

/** Timed turns to talk about stress from outside the relationship, with the listener on the talker's side. */
export const stressReducing = {
  id: "stress-reducing",
  title: "Stress-reducing conversation",
  summary: "Each of you gets ten minutes to unload stress from outside your relationship while the other backs you up.",
  intro:
    "Talk about stress from outside the two of you: work, family, friends, the world. Not about each other. " +
    "Each of you gets a timed turn; when the timer ends, you swap.",
  untimed: {
    summary: "Each of you takes a turn to unload stress from outside your relationship while the other backs you up.",
    intro:
      "Talk about stress from outside the two of you: work, family, friends, the world. Not about each other. " +
      "Each of you takes a turn for as long as you need; when the one talking ends their turn, you swap.",
  },
  cycles: 2,
  closing: "You backed each other up. A hug, or a few quiet minutes side by side, is a good way to close.",
  steps: [
    {
      id: "talk",
      title: "Your time to talk",
      actor: "speaker",
      kind: "talk",
      durationSeconds: 600,
      prompt: {
        speaker:
          "This time is yours. Talk (or type) about whatever is weighing on you outside the relationship. End your turn when you're done.",
        listener:
          "Be on your partner's side. Show interest, ask about it, tell them it makes sense. Hold back advice unless they ask for it.",
      },
      stems: {
        speaker: ["What's been getting to me is ...", "The hardest part this week was ..."],
        listener: ["That sounds exhausting.", "No wonder you're upset.", "I'm with you on this.", "Tell me more."],
      },
      next: { to: "@cycle" },
    },
  ],
} satisfies ExerciseDefinition;
