import type { ExerciseDefinition } from "../exercise-format.ts";

/** The floor passes back and forth: only its holder speaks; the other paraphrases. Runs until you end it. */
export const speakerListener = {
  id: "speaker-listener",
  title: "Speaker and listener",
  summary: "Whoever holds the floor speaks in short turns; the other paraphrases. Pass the floor as often as you like.",
  intro:
    "Only the one holding the floor speaks, about themself, a sentence or two at a time. " +
    "The other paraphrases: no rebuttals, opinions or solutions until they hold the floor. " +
    "Either of you can call a time-out. Problem-solving comes later, separately.",
  closing: "You took turns holding the floor and being heard. Notice one thing your partner understood well.",
  steps: [
    {
      id: "speak",
      title: "Speak",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker: "You hold the floor. Say (or type) one or two sentences about your own view, then stop.",
        listener: "Your partner holds the floor. Listen; you'll paraphrase next.",
      },
      stems: { speaker: ["From where I stand ...", "I feel ... about ..."] },
      next: { to: "paraphrase" },
    },
    {
      id: "paraphrase",
      title: "Paraphrase",
      actor: "listener",
      kind: "say",
      answers: ["speak", "restate"],
      prompt: {
        listener:
          "Put what you heard in your own words (say it or type it). Keep your own opinions for when you hold the floor.",
        speaker: "Your partner is paraphrasing what you said.",
      },
      stems: { listener: ["Sounds like you ...", "You're saying that ..."] },
      next: { to: "confirm" },
    },
    {
      id: "confirm",
      title: "Did they get it?",
      actor: "speaker",
      kind: "choose",
      answers: "paraphrase",
      prompt: {
        speaker: "Was that right? Keep going, correct it, or hand over the floor.",
        listener: "Your partner is checking your paraphrase.",
      },
      options: [
        { id: "more", label: "That's it, and I have more", next: { to: "speak" } },
        { id: "not-quite", label: "Not quite", next: { to: "restate" } },
        { id: "hand-floor", label: "That's it — I hand you the floor", next: { to: "@cycle" } },
        { id: "done", label: "We're done for now", next: { to: "@end" } },
      ],
    },
    {
      id: "restate",
      title: "Say it again",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker: "Say (or type) the part that got lost, another way.",
        listener: "Your partner is putting it another way. You'll paraphrase again.",
      },
      stems: { speaker: ["What I mean is ..."] },
      next: { to: "paraphrase" },
    },
  ],
} satisfies ExerciseDefinition;
