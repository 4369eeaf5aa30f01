import type { ExerciseDefinition } from "../exercise-format.ts";

/** Mirror, check, "is there more?", summary, validate, empathize; then the partners switch roles. */
export const intentionalDialogue = {
  id: "intentional-dialogue",
  title: "Intentional dialogue",
  summary: "One of you shares, the other mirrors, makes sense of it and names the feelings; then you switch.",
  intro:
    'One topic at a time. The speaker talks about themself in short pieces, starting with "I", without blame. ' +
    "The listener reflects back what they heard without adding, judging or asking their own questions. " +
    "The speaker opens the dialogue and decides when it is complete. Then you swap and do it again.",
  cycles: 2,
  closing:
    "Take a slow breath together. If you like, tell each other one thing that felt good about how you were heard.",
  endings: [
    {
      id: "postponed",
      title: "Another time, agreed",
      words:
        'Saying "not now" and naming a time is part of the dialogue, not a failure of it. Come back to it at the time you agreed.',
      outcome: "postponed",
    },
  ],
  steps: [
    {
      id: "invite",
      title: "Invite",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker: "Name the topic in one sentence (say it or type it) and ask whether now is a good time.",
        listener: "Your partner is naming what they would like to talk about.",
      },
      stems: { speaker: ["I'd like to talk about ...", "Is now a good time for us?"] },
      next: { to: "ready" },
    },
    {
      id: "ready",
      title: "Is now a good time?",
      actor: "listener",
      kind: "choose",
      prompt: {
        listener: "Can you give your full attention now? If not, offer a time within the next day.",
        speaker: "Your partner is deciding whether now works.",
      },
      options: [
        { id: "now", label: "Now works", next: { to: "send" } },
        { id: "later", label: "Not right now", next: { to: "later" } },
      ],
    },
    {
      id: "later",
      title: "Offer a time",
      actor: "listener",
      kind: "agreement",
      prompt: {
        listener:
          "Thank your partner for asking, and offer a time within the next day when you can give them your full attention.",
        speaker: "Your partner can't listen fully right now. They are offering a time within the next day.",
      },
      agreement: { when: "required", withinHours: 24, what: "optional", acknowledge: true },
      next: { to: "@end", ending: "postponed" },
    },
    {
      id: "send",
      title: "Share",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker: 'Share a small piece: a few sentences about you (say it or type it). Start with "I".',
        listener: "Listen closely. You will repeat back what you heard next.",
      },
      stems: { speaker: ["I feel ... when ...", "What matters to me is ...", "I noticed that I ..."] },
      next: { to: "mirror" },
    },
    {
      id: "mirror",
      title: "Mirror",
      actor: "listener",
      kind: "say",
      answers: ["send", "clarify"],
      prompt: {
        listener:
          "Repeat back what you heard, as close to their words as you can (say it or type it). Don't add or explain. Then ask if you got it.",
        speaker: "Your partner is reflecting back what they heard.",
      },
      stems: { listener: ["What I heard you say is ...", "Did I get that right?"] },
      next: { to: "check" },
    },
    {
      id: "check",
      title: "Did they get it?",
      actor: "speaker",
      kind: "choose",
      answers: "mirror",
      prompt: {
        speaker: "Did your partner get it? And is there more you want to share?",
        listener: "Your partner is checking what you reflected.",
      },
      options: [
        { id: "got-it", label: "Yes, you got it", next: { to: "summary" } },
        { id: "not-quite", label: "Not quite", next: { to: "clarify" } },
        { id: "more", label: "There's more", next: { to: "send" } },
      ],
    },
    {
      id: "clarify",
      title: "Say the missed part again",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker: "Gently say (or type) again the part that didn't come across.",
        listener: "Your partner is restating the part you missed. You will mirror it again.",
      },
      stems: { speaker: ["The part I most want you to hear is ..."] },
      next: { to: "mirror" },
    },
    {
      id: "summary",
      title: "Sum it up",
      actor: "listener",
      kind: "say",
      answers: ["send", "clarify"],
      gather: "round",
      prompt: {
        listener:
          "Sum up everything you heard in a few sentences (say it or type it), then check it with your partner.",
        speaker: "Your partner is pulling together everything you shared.",
      },
      stems: { listener: ["So, all together, you're saying ...", "Did I sum it up well?"] },
      next: { to: "summary-check" },
    },
    {
      id: "summary-check",
      title: "Is that the whole of it?",
      actor: "speaker",
      kind: "choose",
      answers: "summary",
      prompt: {
        speaker: "Does the summary hold everything important?",
        listener: "Your partner is checking your summary.",
      },
      options: [
        { id: "complete", label: "That's it", next: { to: "validate" } },
        { id: "add", label: "Let me add something", next: { to: "send" } },
      ],
    },
    {
      id: "validate",
      title: "Make sense of it",
      actor: "listener",
      kind: "say",
      answers: ["send", "clarify"],
      gather: "round",
      prompt: {
        listener:
          "Tell your partner how their view makes sense to you (say it or type it). You don't have to agree. " +
          "If only part of it makes sense yet, say which part, and ask them to help you understand the rest.",
        speaker: "Your partner is telling you how your view makes sense to them.",
      },
      stems: {
        listener: ["It makes sense to me that you ..., because ...", "This part makes sense; help me understand ..."],
      },
      next: { to: "empathize" },
    },
    {
      id: "empathize",
      title: "Name the feelings",
      actor: "listener",
      kind: "say",
      answers: ["send", "clarify", "empathy-correct"],
      prompt: {
        listener: "Name the feelings your partner might have about this (say it or type it), and ask if you're close.",
        speaker: "Your partner is imagining how you feel.",
      },
      stems: { listener: ["I imagine you might feel ...", "Is that how it feels for you?"] },
      next: { to: "empathy-check" },
    },
    {
      id: "empathy-check",
      title: "Is that how it feels?",
      actor: "speaker",
      kind: "choose",
      answers: "empathize",
      prompt: {
        speaker: "Did your partner name how you feel?",
        listener: "Your partner is checking the feelings you named.",
      },
      options: [
        { id: "yes", label: "Yes, that's how I feel", next: { to: "@cycle" } },
        { id: "not-quite", label: "Not quite", next: { to: "empathy-correct" } },
      ],
    },
    {
      id: "empathy-correct",
      title: "Say how it really feels",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker: "Say (or type) what you actually feel, in a word or two.",
        listener: "Your partner is telling you how it really feels. You'll name it again next.",
      },
      stems: { speaker: ["It's more that I feel ..."] },
      next: { to: "empathize" },
    },
  ],
} satisfies ExerciseDefinition;
