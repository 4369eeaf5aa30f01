import type { ExerciseDefinition } from "../exercise-format.ts";

/**
 * Questions about one's own inner world (daily life, people, hopes, worries, history). The order is shuffled by the
 * seed the starting client sends, so couples who come back meet different questions first.
 */
const WORLD = [
  "What would your perfect free Saturday look like, from waking up to going to sleep?",
  "Which friend have you been missing lately?",
  "What is one small thing that has been on your mind this month?",
  "Which place would you most love to visit in the next few years?",
  "If you could have any meal at all tonight, what would it be?",
  "Which part of your days gives you the most energy at the moment?",
  "Which part of your days wears you out the most at the moment?",
  "Which song takes you straight back to being a teenager?",
  "What is one hope you have for the coming year?",
  "Who in your family do you feel closest to these days?",
  "What helps you unwind after a hard day?",
  "What would you learn if time and money were no object?",
  "What was the best moment of your past week?",
  "Which childhood memory do you return to often?",
  "What would you do with an unexpected free afternoon?",
  "Which book, film or show has stayed with you this year?",
  "What is something you're proud of that you rarely mention?",
  "Which season of the year do you like best?",
  "What small gesture from me makes you feel cared for?",
  "What are you looking forward to right now?",
  "What were you afraid of as a child?",
  "What would you call your biggest challenge at the moment?",
  "If you could change one thing about our everyday routine, what would it be?",
  "Which dream from when you were younger do you still think about?",
];

/** One of you answers a question about your own world while the other guesses; you compare, then swap. */
export const loveMaps = {
  id: "love-maps",
  title: "Love maps",
  summary: "Take turns: one answers a question about their own world, the other guesses, then you compare.",
  intro:
    "A game of curiosity, not a quiz. One of you answers a question about your own life (what you enjoy, worry " +
    "about, hope for) while the other guesses your answer. You see both at the same moment. There are no points: " +
    "a near miss is simply something new to learn. After each question you swap, and you can stop whenever you like.",
  modes: ["guided", "therapist"],
  decks: [{ id: "world", title: "Your world", questions: WORLD }],
  // Stopping after any question is this exercise's way to finish, so it has one closing.
  closing:
    "Thank you for being curious about each other. You each know a little more of the other's world; the rest of the questions will keep for another day.",
  steps: [
    {
      id: "guess",
      title: "Answer and guess",
      actor: "both",
      kind: "guess",
      question: { deck: "world" },
      prompt: {
        speaker:
          "Answer this question about yourself. Write it down, or keep it in mind if you are talking aloud. " +
          "Your partner is guessing meanwhile and sees your answer only once you are both ready.",
        listener:
          "Guess how your partner will answer this about themself. Write your guess, or keep it in mind if you " +
          "are talking aloud. Nothing is shown until you are both ready.",
      },
      guess: {
        reveal: {
          speaker:
            "Here they are, side by side. If you are talking aloud, let your partner say their guess first, then " +
            "give your answer. Was it close?",
          listener:
            "Here they are, side by side. If you are talking aloud, say your guess first, then hear your partner's " +
            "answer. Was it close?",
        },
      },
      next: { to: "tell-more" },
    },
    {
      id: "tell-more",
      title: "Tell a little more",
      actor: "speaker",
      kind: "say",
      question: { deck: "world", draw: "same" },
      prompt: {
        speaker:
          "Tell your partner a little more about your answer (say it or type it): where it comes from, or why it matters to you.",
        listener: "Listen for something you didn't know yet. Curiosity is the whole point.",
      },
      stems: { speaker: ["The story behind that is ...", "It matters to me because ...", "Lately I've noticed ..."] },
      next: { to: "again" },
    },
    {
      id: "again",
      title: "Another question?",
      actor: "speaker",
      kind: "choose",
      prompt: {
        speaker: "Would you like another question? If so, your partner answers the next one and you guess.",
        listener: "Your partner is deciding whether to carry on. If you do, you answer the next question.",
      },
      options: [
        { id: "swap", label: "Another question, we swap", next: { to: "@cycle" } },
        { id: "stop", label: "That's enough for today", next: { to: "@end" } },
      ],
    },
  ],
} satisfies ExerciseDefinition;
