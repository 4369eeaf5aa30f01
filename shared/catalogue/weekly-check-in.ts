import type { ExerciseDefinition } from "../exercise-format.ts";

/** Appreciations, what went well, one issue with the floor, and what each needs in the week ahead. */
export const weeklyCheckIn = {
  id: "weekly-check-in",
  title: "Weekly check-in",
  summary:
    "Appreciations, what went well this week, one issue talked through with the floor, and what you each need next week.",
  intro:
    "Half an hour to an hour, once a week, at a time that suits you both. Start with what is good. Then one of you " +
    "raises a single issue and you take turns holding the floor: whoever holds it talks about their own experience, " +
    "the other sums up without answering back. Leave solutions until you both feel understood. Finish with what " +
    "each of you needs in the week ahead.",
  modes: ["guided", "therapist"],
  cycles: 1,
  closing: "That's this week's check-in done. Same time next week?",
  steps: [
    {
      id: "appreciate",
      title: "Appreciations",
      actor: "both",
      kind: "say",
      prompt: {
        all: "Tell your partner at least one thing you appreciated about them this week, as specifically as you can (say it or type it).",
      },
      stems: { all: ["This week I appreciated it when you ...", "It meant a lot to me that you ..."] },
      next: { to: "went-well" },
    },
    {
      id: "went-well",
      title: "What went well",
      actor: "both",
      kind: "say",
      prompt: { all: "Name something that went well for the two of you this week (say it or type it)." },
      stems: { all: ["Something that went well was ...", "I liked how we ..."] },
      next: { to: "issue-speak" },
    },
    {
      id: "issue-speak",
      title: "One issue: you have the floor",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker:
          'You hold the floor. Say how one issue is for you, in a few sentences starting with "I" (say it or type it). One issue only, and no blame.',
        listener: "Your partner holds the floor. Listen without answering back; next you sum up what you heard.",
      },
      stems: { speaker: ["Something I'd like us to talk about is ...", "When ... happens, I feel ..."] },
      next: { to: "issue-sum-up" },
    },
    {
      id: "issue-sum-up",
      title: "Sum it up",
      actor: "listener",
      kind: "say",
      answers: "issue-speak",
      prompt: {
        listener: "Sum up what you heard in your own words, without adding your view (say it or type it).",
        speaker: "Your partner is summing up what you said.",
      },
      stems: { listener: ["What I heard is ...", "So for you, ..."] },
      next: { to: "issue-check" },
    },
    {
      id: "issue-check",
      title: "Did that come across?",
      actor: "speaker",
      kind: "choose",
      answers: "issue-sum-up",
      prompt: {
        speaker: "Did your partner get it? Keep the floor, pass it, or move on once you understand each other.",
        listener: "Your partner is checking your summary.",
      },
      options: [
        { id: "more", label: "Yes, and there's more", next: { to: "issue-speak" } },
        { id: "not-quite", label: "Not quite, let me say it again", next: { to: "issue-speak" } },
        { id: "pass", label: "Yes, your turn to have the floor", next: { to: "issue-speak", swapRoles: true } },
        { id: "understood", label: "We understand each other", next: { to: "needs" } },
      ],
    },
    {
      id: "needs",
      title: "The week ahead",
      actor: "both",
      kind: "say",
      prompt: {
        all: "Say one thing you need from your partner in the week ahead, as a clear, kind request (say it or type it).",
      },
      stems: { all: ["This week it would help me if you ...", "I'd love us to ..."] },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;
