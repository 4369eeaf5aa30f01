import type { ExerciseDefinition } from "../exercise-format.ts";

/** Ideas listed privately, shown side by side, one picked together, and a day and time agreed for it. */
export const planTime = {
  id: "plan-time",
  title: "Plan time together",
  summary: "Each of you privately lists a few ideas for time together; then you pick one together and agree when.",
  intro:
    "About ten minutes. Think of things you would both enjoy, big or small, at home or out. You each write your " +
    "ideas on your own; they appear side by side once you have both written yours. Then you pick one together " +
    "and settle on a day and time in the next two weeks.",
  modes: ["guided", "therapist"],
  cycles: 1,
  closing: "It's in the diary. Enjoy your time together, and keep the other ideas for next time.",
  steps: [
    {
      id: "ideas",
      title: "Your ideas",
      actor: "both",
      kind: "private-answer",
      prompt: {
        all:
          "Write up to three ideas for time together, a few words each (a walk by the river, cooking something new). " +
          "Your partner sees them only once you have both written yours.",
      },
      answer: { ideas: { max: 3 } },
      next: { to: "pick" },
    },
    {
      id: "pick",
      title: "Pick one together",
      actor: "both",
      kind: "pick",
      pick: { from: "ideas" },
      prompt: {
        all: "Here are all your ideas. Choose the one you would like to do first. You both need to pick the same one, so talk it over.",
      },
      next: { to: "when" },
    },
    {
      id: "when",
      title: "When?",
      actor: "both",
      kind: "agreement",
      prompt: {
        all:
          "When will you do it? One of you suggests a day and time in the next two weeks; the other agrees or suggests " +
          "another. Add a detail if it helps, like who books or what to bring.",
      },
      agreement: { picked: "pick", when: "required", withinHours: 14 * 24, what: "optional" },
      next: { to: "look-forward" },
    },
    {
      id: "look-forward",
      title: "Something to look forward to",
      actor: "both",
      kind: "say",
      prompt: { all: "Tell each other one thing you are looking forward to about it (say it or type it)." },
      stems: { all: ["I'm looking forward to ...", "It'll be good to ..."] },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;
