import type { ExerciseDefinition, StepDefinition } from "../exercise-format.ts";

/**
 * One stage of repair: the first partner shares and the other summarizes; then roles swap so the second
 * partner shares and the first summarizes; the closing swap hands the first turn of the next stage back.
 */
function stage(
  id: string,
  title: string,
  share: { prompt: string; stems: string[] },
  reflect: { prompt: string; stems: string[] },
  after: string,
): StepDefinition[] {
  const shareStep = (suffix: string, next: string, swapRoles: boolean): StepDefinition => ({
    id: `${id}-share${suffix}`,
    title,
    actor: "speaker",
    kind: "say",
    prompt: { speaker: share.prompt, listener: "Your partner is sharing. Listen for what it was like for them." },
    stems: { speaker: share.stems },
    next: swapRoles ? { to: next, swapRoles } : { to: next },
  });
  const reflectStep = (suffix: string, next: string): StepDefinition => ({
    id: `${id}-reflect${suffix}`,
    title: `${title}: sum it up`,
    actor: "listener",
    kind: "say",
    answers: `${id}-share${suffix}`,
    prompt: { listener: reflect.prompt, speaker: "Your partner is summing up what you shared." },
    stems: { listener: reflect.stems },
    next: { to: next, swapRoles: true },
  });
  return [
    shareStep("", `${id}-reflect`, false),
    reflectStep("", `${id}-share-2`),
    shareStep("-2", `${id}-reflect-2`, false),
    reflectStep("-2", after),
  ];
}

/**
 * One partner's turn at owning their part: they apologize, the other accepts it or says what is still missing,
 * and that goes back to the apology until it is accepted; acceptance swaps roles and moves on to `accepted`.
 */
function ownership(suffix: string, opening: string, accepted: string): StepDefinition[] {
  return [
    {
      id: `responsibility-share${suffix}`,
      title: "My part",
      actor: "speaker",
      kind: "say",
      answers: `responsibility-need${suffix}`,
      prompt: {
        speaker: `${opening} (or type) what set you up to react the way you did, what your part was, and apologize for it.`,
        listener: "Your partner is owning their part. Listen for the apology.",
      },
      stems: { speaker: ["I was already ... that day.", "My part in it was ...", "I'm sorry that I ..."] },
      next: { to: `responsibility-receive${suffix}` },
    },
    {
      id: `responsibility-receive${suffix}`,
      title: "Receive the apology",
      actor: "listener",
      kind: "choose",
      answers: `responsibility-share${suffix}`,
      prompt: {
        listener: "Can you accept your partner's apology, or is something still missing?",
        speaker: "Your partner is taking in your apology.",
      },
      options: [
        { id: "accept", label: "I accept your apology", next: { to: accepted, swapRoles: true } },
        { id: "need-more", label: "I still need something", next: { to: `responsibility-need${suffix}` } },
      ],
    },
    {
      id: `responsibility-need${suffix}`,
      title: "What I still need",
      actor: "listener",
      kind: "say",
      prompt: {
        listener: "Say (or type) kindly what you still need to hear or see.",
        speaker: "Your partner is telling you what they still need. You'll get to respond.",
      },
      stems: { listener: ["What would help me is ...", "I still need to hear ..."] },
      next: { to: `responsibility-share${suffix}` },
    },
  ];
}

const summarize = "Sum up what your partner shared (say it or type it), without correcting or defending.";

/** Processing a regrettable incident in five stages, taking turns within each, once both are calm. */
export const repair = {
  id: "repair",
  title: "Repair after a hard moment",
  summary: "Look back at a fight or hurtful moment together, calmly, in five stages, taking turns in each.",
  intro:
    "Only start when you both feel calm; call a time-out first if either of you doesn't. " +
    "You're talking about the moment, not reliving it. Both of your experiences count, and neither has to be the right one. " +
    "No blaming, no mocking, no defending; each of you speaks about yourself.",
  cycles: 1,
  closing:
    "You looked back at a hard moment together and each owned your part. That is how repair happens, one conversation at a time.",
  steps: [
    {
      id: "calm",
      title: "Are you both calm?",
      actor: "speaker",
      kind: "choose",
      prompt: {
        speaker: "Check in with each other: are you both calm enough to look back at what happened?",
        listener: "Tell your partner honestly whether you're calm enough to start.",
      },
      options: [
        { id: "ready", label: "We're both calm enough", next: { to: "feelings-share" } },
        { id: "not-yet", label: "Not yet, let's come back to it", next: { to: "@end" } },
      ],
    },
    ...stage(
      "feelings",
      "What I felt",
      {
        prompt:
          "Name the feelings you had during the incident (say them or type them). Just the feelings: no reasons, and nothing about your partner's feelings.",
        stems: ["I felt ...", "I also felt ..."],
      },
      {
        prompt: summarize,
        stems: ["You felt ...", "It makes sense you felt that way."],
      },
      "realities-share",
    ),
    ...stage(
      "realities",
      "What it was like for me",
      {
        prompt:
          "Describe what happened as you experienced it (say it or type it). Speak about what you saw, heard and needed, not about what your partner did wrong.",
        stems: ["What I noticed was ...", "What I needed then was ..."],
      },
      {
        prompt: `${summarize} Then say which part of it makes sense to you.`,
        stems: ["From where you stood, ...", "This part makes sense to me: ..."],
      },
      "triggers-share",
    ),
    ...stage(
      "triggers",
      "What set it off",
      {
        prompt:
          "Share what made it escalate for you (say it or type it): an old memory, a sore spot, a story you told yourself.",
        stems: ["It hit a sore spot because ...", "It reminded me of ..."],
      },
      {
        prompt: `${summarize} Then say how it makes sense that it touched that.`,
        stems: ["So it brought back ...", "I can see why that stung."],
      },
      "responsibility-share",
    ),
    ...ownership("", "Say", "responsibility-share-2"),
    ...ownership("-2", "Now your turn: say", "plan-share"),
    ...stage(
      "plan",
      "Next time",
      {
        prompt:
          "Say (or type) one thing you could do differently next time, and what you need from your partner to put this behind you.",
        stems: ["Next time I can ...", "To move on, I need ..."],
      },
      {
        prompt: "Sum up your partner's plan and what they need (say it or type it), and say what you can offer.",
        stems: ["Next time you'll ...", "You need ..., and I can ..."],
      },
      "@end",
    ),
  ],
} satisfies ExerciseDefinition;
