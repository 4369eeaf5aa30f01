import type { ExerciseDefinition } from "../exercise-format.ts";

/**
 * Therapist-led work after a breach of trust. The speaker is the partner who broke the trust (the therapist picks
 * them as the first speaker): they acknowledge it and answer without defending; the hurt partner (the listener)
 * asks, says what it did to them and what they need; then each offers a commitment the other acknowledges.
 */
export const rebuildingTrust = {
  id: "rebuilding-trust",
  title: "Rebuilding trust",
  summary:
    "With your therapist: one of you acknowledges a breach and answers without defending; the other asks and says what they need; then commitments on both sides.",
  intro:
    "For use with your therapist only. The partner who broke the trust begins as the speaker: they name what " +
    "happened, take responsibility, and answer questions openly, without defending it or explaining it away. The " +
    "hurt partner asks what they need to know and says what it has done to them and what they need. You each end " +
    "with a commitment. Your therapist sets the pace and can pause at any moment.",
  modes: ["therapist"],
  closing:
    "That took courage from both of you. Your commitments are kept in the summary; trust grows back through small promises kept.",
  steps: [
    {
      id: "open",
      title: "Opening",
      actor: "therapist",
      kind: "say",
      prompt: {
        therapist:
          "Open the conversation (say it or type it): the ground rules (no defending, no attacking, either of them may ask to pause) and a check that both are ready. Start it with the partner who broke trust as the first speaker.",
        all: "Your therapist is opening this conversation.",
      },
      next: { to: "acknowledge" },
    },
    {
      id: "acknowledge",
      title: "Acknowledge what happened",
      actor: "speaker",
      kind: "say",
      prompt: {
        speaker:
          "In your own words, name what you did and that it hurt your partner, plainly and without reasons or excuses (say it or type it).",
        listener: "Your partner is acknowledging what happened. You don't need to respond yet.",
        therapist: 'Listen for a plain acknowledgement. Reasons, excuses or "but" are a cue to slow them down.',
      },
      stems: { speaker: ["What I did was ...", "I know it hurt you when I ..."] },
      next: { to: "ask" },
    },
    {
      id: "ask",
      title: "Your question",
      actor: "listener",
      kind: "say",
      prompt: {
        listener:
          "Ask one question you need answered (say it or type it). You can ask as many as you need, one at a time.",
        speaker: "Your partner is asking a question. Hear all of it before you answer.",
        therapist: "The hurt partner asks. Help them keep to one question at a time.",
      },
      stems: { listener: ["What I need to understand is ...", "I keep wondering ..."] },
      next: { to: "answer" },
    },
    {
      id: "answer",
      title: "Answer openly",
      actor: "speaker",
      kind: "say",
      answers: "ask",
      prompt: {
        speaker:
          "Answer honestly and directly (say it or type it). If you feel the pull to defend or explain it away, notice it and come back to the question.",
        listener: "Your partner is answering your question.",

        therapist: "Watch for defending or minimising; a nudge or a pause brings them back to the question.",
      },
      next: { to: "more" },
    },
    {
      id: "more",
      title: "Another question?",
      actor: "listener",
      kind: "choose",
      prompt: {
        listener: "Is there another question you need to ask now?",
        speaker: "Your partner is deciding whether to ask more.",
        therapist: "The hurt partner decides whether there is more to ask for now.",
      },
      options: [
        { id: "another", label: "I have another question", next: { to: "ask" } },
        { id: "enough", label: "That's enough questions for now", next: { to: "hurt" } },
      ],
    },
    {
      id: "hurt",
      title: "What it has done to you",
      actor: "listener",
      kind: "say",
      prompt: {
        listener:
          "Tell your partner what this has been like for you: how it affected you and what you feel now (say it or type it).",
        speaker: "Listen without defending. You'll reflect back what you heard.",
        therapist: "Make room for the hurt. The other partner only listens here.",
      },
      stems: { listener: ["Since then I have felt ...", "The hardest part for me is ..."] },
      next: { to: "reflect" },
    },
    {
      id: "reflect",
      title: "Reflect the hurt",
      actor: "speaker",
      kind: "say",
      answers: "hurt",
      prompt: {
        speaker:
          "Reflect back what your partner told you about the hurt, in your own words, without explaining yourself (say it or type it).",
        listener: "Your partner is reflecting what you told them.",
        therapist: "Listen for a reflection without self-justification.",
      },
      stems: { speaker: ["What I hear is that since then you ...", "It has been ... for you."] },
      next: { to: "reflect-check" },
    },
    {
      id: "reflect-check",
      title: "Did they understand?",
      actor: "listener",
      kind: "choose",
      answers: "reflect",
      prompt: {
        listener: "Did your partner understand how it has been for you?",
        speaker: "Your partner is checking what you reflected.",
        therapist: "The hurt partner says whether they felt understood.",
      },
      options: [
        { id: "yes", label: "Yes, they understood", next: { to: "need" } },
        { id: "not-quite", label: "Not quite", next: { to: "hurt" } },
      ],
    },
    {
      id: "need",
      title: "What you need",
      actor: "listener",
      kind: "say",
      prompt: {
        listener: "Say what you need from your partner to begin rebuilding trust (say it or type it).",
        speaker: "Your partner is telling you what they need.",
        therapist: "Help the need come out as something concrete that can be done.",
      },
      stems: { listener: ["To begin trusting again I need ...", "It would help me if you ..."] },
      next: { to: "commit-speaker" },
    },
    {
      id: "commit-speaker",
      title: "Your commitment",
      actor: "speaker",
      kind: "agreement",
      prompt: {
        speaker:
          "Offer one concrete thing you will do from now on. Add a date to look at it again together, if you like. You can change your offer until your partner acknowledges it.",
        listener:
          "Your partner is offering a commitment. Acknowledge it when it is something you can hold them to; if it isn't enough yet, say so.",
        therapist: "A commitment should be concrete and checkable. They can change it until it is acknowledged.",
      },
      agreement: { what: "required", when: "optional", acknowledge: true },
      next: { to: "commit-listener" },
    },
    {
      id: "commit-listener",
      title: "Your commitment",
      actor: "listener",
      kind: "agreement",
      prompt: {
        listener:
          "Now yours: one thing you will do to support rebuilding, for example telling your partner when something brings the hurt back.",
        speaker: "Your partner is offering a commitment. Acknowledge it once you have taken it in.",
        therapist: "The hurt partner's commitment: something that supports rebuilding, not a test of the other.",
      },
      agreement: { what: "required", when: "optional", acknowledge: true },
      next: { to: "next" },
    },
    {
      id: "next",
      title: "Where to now?",
      actor: "therapist",
      kind: "choose",
      prompt: {
        therapist: "Go back to questions, or close for today?",
        all: "Your therapist is deciding what comes next.",
      },
      options: [
        { id: "questions", label: "More questions", next: { to: "ask" } },
        { id: "close", label: "Close for today", next: { to: "close" } },
      ],
    },
    {
      id: "close",
      title: "Closing",
      actor: "therapist",
      kind: "say",
      prompt: {
        therapist: "Close the session (say it or type it): name what each of them did today and what comes next.",
        all: "Your therapist is closing today's conversation.",
      },
      next: { to: "@end" },
    },
  ],
} satisfies ExerciseDefinition;
