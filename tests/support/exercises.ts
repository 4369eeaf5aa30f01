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

/**
 * An uploaded exercise using every new kind: a guess about a drawn question (typed, or held in mind when spoken),
 * a pick-one guess, ideas listed privately, one picked together, a time agreed together about it, and a promise
 * one partner offers and the other acknowledges.
 */
export const DATE_NIGHT = {
  id: "date-night",
  title: "Date night",
  summary: "Guess, list ideas, pick one, agree when.",
  modes: ["therapist"],
  decks: [{ id: "small", questions: ["What would you order at a café right now?", "Which view do you miss most?"] }],
  steps: [
    {
      id: "warm-up",
      title: "Warm-up guess",
      actor: "both",
      kind: "guess",
      question: { deck: "small" },
      prompt: { speaker: "Answer about yourself.", listener: "Guess your partner's answer." },
      guess: { reveal: { all: "Both are out: how close?" } },
      next: { to: "mood" },
    },
    {
      id: "mood",
      title: "Night in or out?",
      actor: "both",
      kind: "guess",
      prompt: { speaker: "In or out, for you?", listener: "Which will your partner pick?" },
      guess: {
        choices: [
          { id: "in", label: "A night in" },
          { id: "out", label: "A night out" },
        ],
        reveal: { all: "Here are both." },
      },
      next: { to: "ideas" },
    },
    {
      id: "ideas",
      title: "Ideas",
      actor: "both",
      kind: "private-answer",
      prompt: { all: "Up to two ideas for an evening." },
      answer: { ideas: { max: 2 } },
      next: { to: "choose-one" },
    },
    {
      id: "choose-one",
      title: "Choose one",
      actor: "both",
      kind: "pick",
      pick: { from: "ideas" },
      prompt: { all: "Pick the same one." },
      next: { to: "when" },
    },
    {
      id: "when",
      title: "When",
      actor: "both",
      kind: "agreement",
      prompt: { all: "When, within the week?" },
      agreement: { picked: "choose-one", when: "required", withinHours: 168 },
      next: { to: "promise" },
    },
    {
      id: "promise",
      title: "A promise",
      actor: "speaker",
      kind: "agreement",
      prompt: { speaker: "Promise one thing.", listener: "Your partner promises something." },
      agreement: {
        what: "required",
        options: [
          { id: "phones", label: "Phones away" },
          { id: "book", label: "I'll book it" },
        ],
        acknowledge: true,
      },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;
