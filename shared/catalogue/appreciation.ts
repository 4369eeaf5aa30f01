import type { ExerciseDefinition } from "../exercise-format.ts";

/** Each partner names specific things they appreciate; the other reflects each one and says thanks. */
export const appreciation = {
  id: "appreciation",
  title: "Appreciation exchange",
  summary: "Take turns naming a few specific things you appreciate about each other. About ten minutes.",
  intro:
    "Think of about three specific things you appreciate about your partner, each tied to a real moment if you can. " +
    "Share them one at a time; your partner reflects each back and thanks you. Then swap.",
  cycles: 2,
  closing: "Let those words stay with you for a moment. It can help to say one of them again later today.",
  steps: [
    {
      id: "appreciate",
      title: "Share an appreciation",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker: "Say (or type) one specific thing you appreciate about your partner, and when you noticed it.",
        listener: "Your partner is telling you something they appreciate about you.",
      },
      stems: { speaker: ["I really appreciated it when you ...", "Something I value about you is ..."] },
      next: { to: "receive" },
    },
    {
      id: "receive",
      title: "Take it in",
      actor: "listener",
      kind: "say",
      answers: "appreciate",
      prompt: {
        listener: "Reflect back what you heard and thank your partner (say it or type it).",
        speaker: "Your partner is taking in what you said.",
      },
      stems: { listener: ["You appreciated that I ...", "Thank you for telling me."] },
      next: { to: "more" },
    },
    {
      id: "more",
      title: "Another one?",
      actor: "speaker",
      kind: "choose",
      prompt: {
        speaker: "Would you like to share another one? Three is a good number.",
        listener: "Your partner is deciding whether to share another one.",
      },
      options: [
        { id: "another", label: "Another one", next: { to: "appreciate" } },
        { id: "done", label: "That's my list", next: { to: "@cycle" } },
      ],
    },
  ],
} satisfies ExerciseDefinition;
