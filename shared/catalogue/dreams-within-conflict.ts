import type { ExerciseDefinition, StepDefinition } from "../exercise-format.ts";

/** The gentle questions a listener asks from, one at a time, to find the hope under a position. */
const GENTLE_QUESTIONS = [
  "What makes this matter so much to you?",
  "Does this connect to something from your past, or how you grew up?",
  "If this went the way you hope, what would that look like?",
  "What do you feel when we get stuck on this?",
  "Underneath it all, what are you hoping for?",
  "What worries you most about letting this go?",
  "Which of your values does this touch?",
  "What would help you feel respected in this?",
];

/**
 * One partner's turn as the dreamer: name the position, explore what lies under it (timed) while the other asks
 * from the gentle questions, hear it reflected, and confirm or explore more. `after` is where a confirmed turn goes.
 */
function turn(suffix: string, after: { to: string; swapRoles?: boolean }): StepDefinition[] {
  return [
    {
      id: `position${suffix}`,
      title: "Your side, briefly",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker: "Name the disagreement and where you stand on it, briefly and without blame (say it or type it).",
        listener: "Your partner is naming their side. You don't need to answer it. Get curious instead.",
      },
      stems: { speaker: ["When it comes to ..., what I want is ..."] },
      next: { to: `explore${suffix}` },
    },
    {
      id: `explore${suffix}`,
      title: "What's underneath",
      actor: "speaker",
      kind: "talk",
      durationSeconds: 900,
      prompt: {
        speaker:
          "Talk about what lies under your position: the story, the value, the hope. Take your time, and end the turn when you have said what is there.",
        listener:
          "Ask one gentle question at a time, from the list or in your own words, and really listen. Don't argue, fix or try to persuade.",
      },
      stems: { listener: GENTLE_QUESTIONS },
      next: { to: `reflect${suffix}` },
    },
    {
      id: `reflect${suffix}`,
      title: "What you heard underneath",
      actor: "listener",
      kind: "say",
      answers: [`position${suffix}`, `explore${suffix}`],
      gather: "round",
      prompt: {
        listener:
          "Tell your partner the hope or dream you heard under their position, in your own words, without agreeing or disagreeing (say it or type it).",
        speaker: "Your partner is telling you what they heard beneath your position.",
      },
      stems: { listener: ["What I hear matters to you is ...", "It sounds like, underneath this, you hope ..."] },
      next: { to: `heard${suffix}` },
    },
    {
      id: `heard${suffix}`,
      title: "Did they understand?",
      actor: "speaker",
      kind: "choose",
      answers: `reflect${suffix}`,
      prompt: {
        speaker: "Did your partner understand what is underneath for you?",
        listener: "Your partner is checking what you reflected.",
      },
      options: [
        { id: "yes", label: "Yes, that's it", next: after },
        { id: "not-quite", label: "Not quite, let's explore more", next: { to: `explore${suffix}` } },
      ],
    },
  ];
}

/** Each partner explores the dream behind their side of a gridlocked conflict; the other asks and does not persuade. */
export const dreamsWithinConflict = {
  id: "dreams-within-conflict",
  title: "Dreams within conflict",
  summary:
    "On a conflict you keep returning to, each of you explores the hope behind your side while the other asks gently and doesn't persuade.",
  intro:
    "Choose one disagreement that keeps coming back. The aim today is understanding, not a solution. The speaker " +
    "talks about what their position means to them: the story, value or dream underneath. The listener's only job " +
    "is to understand, asking from a list of gentle questions, never arguing or persuading. Each of you has about " +
    "fifteen minutes as the speaker, then you switch.",
  untimed: {
    intro:
      "Choose one disagreement that keeps coming back. The aim today is understanding, not a solution. The speaker " +
      "talks about what their position means to them: the story, value or dream underneath. The listener's only job " +
      "is to understand, asking from a list of gentle questions, never arguing or persuading. Each of you takes as " +
      "long as you need as the speaker, then you switch.",
  },
  modes: ["guided", "therapist"],
  closing:
    "You each listened for the dream under the other's side. The disagreement may still be there, and now you both know what it holds.",
  steps: [
    ...turn("", { to: "position-2", swapRoles: true }),
    ...turn("-2", { to: "understand" }),
    {
      id: "understand",
      title: "What you understand now",
      actor: "both",
      kind: "say",
      prompt: {
        all: "Tell each other one thing you understand better about the other's side now. No solutions needed today (say it or type it).",
      },
      stems: { all: ["I understand better now that ...", "I hadn't realised that for you ..."] },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;
