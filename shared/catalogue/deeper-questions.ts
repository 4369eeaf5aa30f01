import type { ExerciseDefinition, StepDefinition } from "../exercise-format.ts";

/** Light questions: habits, tastes, small hopes. */
const SET_1 = [
  "If you could have a long lunch with anyone, living or not, who would you choose and what would you ask them?",
  "What does a really good ordinary day look like for you?",
  "Which song could you listen to on repeat right now, and why that one?",
  "What is something you have changed your mind about in the last few years?",
  "If you could be instantly good at one skill, which would you pick?",
  "Which small pleasure would you hate to give up?",
  "Which kind of conversation comes easily to you, and which kind do you avoid?",
  "What would you like to be doing when you're eighty?",
  "What is your favourite way to spend an evening at home?",
  "Which tradition from your childhood would you like to keep, or bring back?",
];

/** More personal: what shaped you, what you value, what you'd change. */
const SET_2 = [
  "What have you long wanted to do and not done yet? What holds you back?",
  "Which of your achievements are you most quietly proud of?",
  "What do you value most in a friendship?",
  "What is one of your most treasured memories?",
  "Which hard moment in your life changed the way you see things?",
  "If you knew you would move across the world in a year, what would you do differently now?",
  "What does feeling loved look like for you on an ordinary day?",
  "How was affection shown in the home you grew up in?",
  "Which person from your childhood shaped you the most, and how?",
  "Name something the two of you seem to share, and something you would like to share more.",
];

/** The deepest: what you carry, fear and wish to say. */
const SET_3 = [
  "What do you carry on your own that you would like to share with someone?",
  "What have you never quite told your partner that you would like them to know?",
  "When were you last moved to tears, and what moved you?",
  "What do you find hardest to talk about, and why?",
  "Tell your partner something you admire about them that you have never said out loud.",
  "What worry do you hold about our future together?",
  "If you had one more chance to thank someone, who would it be, and for what?",
  "Describe a moment when you felt especially close to your partner.",
  "What could your partner do that would help you feel more understood?",
  "Ask your partner for their view on something that has been on your mind, and really listen to the answer.",
];

/**
 * One set: the reader (the speaker) reads a question aloud and both answer it; the next reader (the listener) then
 * chooses another question from this set (and reads it), the next set, or to stop. Roles swap every question.
 */
function set(n: 1 | 2 | 3, later: { id: string; label: string; to: string } | null): StepDefinition[] {
  return [
    {
      id: `ask-${n}`,
      title: `Set ${n}: a question for you both`,
      actor: "both",
      kind: "say",
      question: { deck: `set-${n}` },
      prompt: {
        speaker:
          "Read the question aloud to your partner, then answer it yourself first (say it or type it). " +
          "Answer as openly as feels right; passing on a question is fine too.",
        listener:
          "Your partner reads the question and answers first. Then give your own answer (say it or type it), or pass if you'd rather.",
      },
      stems: { all: ["For me, ...", "Honestly, ...", "I'd rather pass on this one."] },
      next: { to: `next-${n}` },
    },
    {
      id: `next-${n}`,
      title: "What next?",
      actor: "listener",
      kind: "choose",
      prompt: {
        listener:
          n === 3
            ? "You read the next question. Another one, or finish here?"
            : "You read the next question. Another from this set, the next set, or stop here for today?",
        speaker: "Your partner chooses what comes next, and reads the next question.",
      },
      options: [
        { id: "another", label: "Another question", next: { to: `ask-${n}`, swapRoles: true } },
        ...(later ? [{ id: later.id, label: later.label, next: { to: later.to, swapRoles: true } }] : []),
        n === 3
          ? { id: "finish", label: "Let's finish here", next: { to: "thanks" } }
          : { id: "stop", label: "Let's stop here", next: { to: "@end", ending: "stopped" } },
      ],
    },
  ];
}

/** Three sets of questions that ask a little more each time; partners alternate who reads and both answer. */
export const deeperQuestions = {
  id: "deeper-questions",
  title: "Deeper questions",
  summary:
    "Three sets of questions, each a little more personal. You take turns reading; you both answer. Stop any time.",
  intro:
    "Allow about 45 minutes, around a quarter of an hour for each set, or stop sooner: you can finish after any question. " +
    "The first set is light, the second more personal, the third the deepest. Take turns reading a question aloud; " +
    "the reader answers first, then the other. Say as much as feels right, and pass on any question you'd rather not answer.",
  modes: ["guided", "therapist"],
  decks: [
    { id: "set-1", title: "Set 1 of 3", questions: SET_1 },
    { id: "set-2", title: "Set 2 of 3", questions: SET_2 },
    { id: "set-3", title: "Set 3 of 3", questions: SET_3 },
  ],
  closing:
    "You went all the way to the deepest questions together. What you heard today is worth coming back to, gently.",
  endings: [
    {
      id: "stopped",
      title: "Stopped for today",
      words:
        "You stopped where it felt right, and that is exactly how this is meant to go. The other questions will wait.",
    },
  ],
  steps: [
    ...set(1, { id: "next-set", label: "On to set 2", to: "ask-2" }),
    ...set(2, { id: "next-set", label: "On to set 3", to: "ask-3" }),
    ...set(3, null),
    {
      id: "thanks",
      title: "A word of thanks",
      actor: "both",
      kind: "say",
      prompt: {
        all: "You have reached the deepest questions. Tell your partner one thing you're glad they shared today (say it or type it).",
      },
      stems: { all: ["I'm glad you told me ...", "It meant a lot to hear ..."] },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;
