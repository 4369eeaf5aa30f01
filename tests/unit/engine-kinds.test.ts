/**
 * The guess, pick and agreement step kinds, idea answers and drawn questions, through the pure engine: what each
 * seat sees before and after a reveal, who may act, every refusal (which leaves the state as it was), what the
 * session keeps, and that questions are drawn deterministically (the deck's order, or a seed from the command).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replay, viewFor } from "../../shared/engine.ts";
import { drawIndex } from "../../shared/engine/model.ts";
import { validateExercise } from "../../shared/exercise-format.ts";
import type { Agreement, Command, LogEntry, Partner, Seat, SessionState } from "../../shared/protocol.ts";
import { LIMITS } from "../../shared/protocol.ts";
import { act as play } from "../support/play.ts";
import { act, expectRefused, GUESSING, guidedSession, logOf, PLAN, T0, therapistSession } from "./fixtures.ts";

const HOUR = 3_600_000;

/** A small clock-driven player over one state, checking every seat's update at every accepted move. */
class Run {
  now = T0;
  /** Every accepted command, in order. */
  readonly log: LogEntry[] = [];
  constructor(public state: SessionState) {}
  act(actor: Seat | "system", command: Command): this {
    this.now += 1000;
    const { state, entry } = play(this.state, actor, command, this.now);
    this.state = state;
    this.log.push(entry);
    return this;
  }
  refuse(actor: Seat, command: Command, code: string): string {
    return expectRefused(this.state, actor, command, code as never, this.now);
  }
  view(seat: Seat) {
    return viewFor(this.state, seat);
  }
  get step() {
    return this.state.turn?.stepId;
  }
}

function guided(channel: "typed" | "spoken" = "typed"): Run {
  return new Run(guidedSession(channel));
}

describe("guess steps", () => {
  it("keeps each side private until both are in, then shows both to every seat and keeps the reveal", () => {
    const { state } = therapistSession("typed");
    const run = new Run(state).act("therapist", { type: "start-exercise", exerciseId: "fx-guess", firstSpeaker: "b" });
    expect(run.step).toBe("open");
    // b holds the floor: b answers about themself, a guesses.
    expect(run.view("a").exercise?.step.guess?.about).toBe("b");
    expect(run.view("a").exercise?.step.prompt).toBe("Guess their answer.");
    expect(run.view("b").exercise?.step.prompt).toBe("Answer about yourself.");
    expect(run.view("b").exercise?.step.yourMove).toBe(true);
    expect(run.view("a").exercise?.step.yourMove).toBe(true);
    expect(run.view("therapist").exercise?.step.yourMove).toBe(false);
    run.refuse("therapist", { type: "guess", text: "me" }, "PARTNER_ONLY");
    run.refuse("a", { type: "mark", mark: "close" }, "NOT_REVEALED");

    run.act("b", { type: "guess", text: "#answer-b#" });
    for (const seat of ["a", "therapist"] as const) {
      const json = JSON.stringify(run.view(seat));
      expect(json, seat).not.toContain("#answer-b#");
      expect(run.view(seat).exercise?.step.guess?.submitted).toEqual({ a: false, b: true });
    }
    expect(run.view("b").exercise?.step.guess?.yours).toEqual({ text: "#answer-b#" });
    expect(run.view("b").exercise?.step.yourMove).toBe(false);
    run.refuse("b", { type: "guess", text: "again" }, "ALREADY_ANSWERED");
    expect(run.state.guesses).toEqual([]);

    run.act("a", { type: "guess", text: "#guess-a#" });
    const revealed = { answer: { text: "#answer-b#" }, guess: { text: "#guess-a#" } };
    for (const seat of ["a", "b", "therapist"] as const) {
      const step = run.view(seat).exercise!.step;
      expect(step.guess?.revealed, seat).toEqual(revealed);
      expect(step.guess?.yours).toBeUndefined();
      expect(step.prompt).toBe("Both are out. How close?");
      expect(step.guess?.marks?.map((m) => m.id)).toEqual(["close", "not-quite"]);
      expect(step.yourMove).toBe(seat !== "therapist");
    }
    expect(run.state.guesses).toEqual([
      {
        v: run.state.version,
        at: run.now,
        exerciseId: "fx-guess",
        stepId: "open",
        about: "b",
        question: { deck: "about", index: 0, text: "First question?" },
        ...revealed,
      },
    ]);
    run.refuse("a", { type: "guess", text: "late" }, "ALREADY_ANSWERED");
    run.refuse("therapist", { type: "mark", mark: "close" }, "PARTNER_ONLY");

    // Either partner marks it: here the one who guessed.
    run.act("a", { type: "mark", mark: "not-quite" });
    expect(run.step).toBe("drink");
    expect(run.state.transcript.at(-1)).toMatchObject({
      seat: "a",
      kind: "choice",
      stepId: "open",
      option: "not-quite",
      label: "Not quite",
    });
    expect(replay(therapistSession("typed").init, [...logOf(state), ...run.log])).toEqual(run.state);
  });

  it("takes pick-one guesses in both channels and refuses what does not fit", () => {
    for (const channel of ["typed", "spoken"] as const) {
      const run = guided(channel).act("a", { type: "start-exercise", exerciseId: "fx-guess" });
      if (channel === "typed") {
        run.refuse("a", { type: "guess" }, "TEXT_REQUIRED");
        run.refuse("a", { type: "guess", text: "  " }, "TEXT_REQUIRED");
        run.refuse("a", { type: "guess", text: "x".repeat(301) }, "TEXT_TOO_LONG");
        run.refuse("a", { type: "guess", choice: "tea" }, "UNKNOWN_OPTION");
        run.act("a", { type: "guess", text: "mine" }).act("b", { type: "guess", text: "theirs" });
      } else {
        run.refuse("a", { type: "guess", text: "typed" }, "TEXT_NOT_ALLOWED");
        run.act("a", { type: "guess" }).act("b", { type: "guess" });
        // Held in mind: the reveal says both are ready, and they say them aloud.
        expect(run.view("b").exercise?.step.guess?.revealed).toEqual({ answer: {}, guess: {} });
      }
      run.act("b", { type: "mark", mark: "close" });
      expect(run.step).toBe("drink");
      run.refuse("a", { type: "guess", text: "Tea" }, "TEXT_NOT_ALLOWED");
      run.refuse("a", { type: "guess" }, "UNKNOWN_OPTION");
      run.refuse("a", { type: "guess", choice: "water" }, "UNKNOWN_OPTION");
      run.act("a", { type: "guess", choice: "coffee" });
      // The choices are on screen for both; which one a took is not.
      expect(run.view("b").exercise?.step.guess).toEqual({
        about: "a",
        submitted: { a: true, b: false },
        choices: [
          { id: "tea", label: "Tea" },
          { id: "coffee", label: "Coffee" },
        ],
      });
      expect(JSON.stringify(run.view("b").guesses)).not.toContain("coffee");
      expect(run.view("a").exercise?.step.guess?.yours).toEqual({ choice: "coffee", label: "Coffee" });
      run.act("b", { type: "guess", choice: "tea" });
      expect(run.view("a").exercise?.step.prompt).toBe("Your partner guessed.");
      expect(run.view("b").exercise?.step.prompt).toBe("Here is their answer.");
      expect(run.state.guesses.at(-1)).toMatchObject({
        about: "a",
        answer: { choice: "coffee", label: "Coffee" },
        guess: { choice: "tea", label: "Tea" },
      });
      expect(run.state.guesses.at(-1)?.question).toBeUndefined();
      run.act("a", { type: "mark", mark: "not-quite" });
      expect(run.step).toBe("more");
    }
  });

  it("a skipped guess step reveals nothing", () => {
    const { state } = therapistSession("typed");
    const run = new Run(state)
      .act("therapist", { type: "start-exercise", exerciseId: "fx-guess" })
      .act("a", { type: "guess", text: "#secret#" })
      .act("therapist", { type: "skip-step" });
    expect(run.step).toBe("drink");
    expect(run.state.guesses).toEqual([]);
    for (const seat of ["a", "b", "therapist"] as const) {
      expect(JSON.stringify(run.view(seat)), seat).not.toContain("#secret#");
    }
  });
});

describe("drawn questions", () => {
  function questionsSeen(seed: number | undefined, cycles = 2): string[] {
    let run = guided().act("a", { type: "start-exercise", exerciseId: "fx-guess", ...(seed ? { seed } : {}) });
    const seen: string[] = [];
    for (let cycle = 0; cycle < cycles; cycle++) {
      const speaker = run.state.turn!.speaker;
      const listener: Partner = speaker === "a" ? "b" : "a";
      seen.push(run.view("a").exercise!.step.question!.text);
      run = run.act(speaker, { type: "guess", text: "x" }).act(listener, { type: "guess", text: "y" });
      run.act(speaker, { type: "mark", mark: "close" });
      run.act(speaker, { type: "guess", choice: "tea" }).act(listener, { type: "guess", choice: "tea" });
      run.act(listener, { type: "mark", mark: "close" });
      // "same": the say step shows the question the guess step drew.
      expect(run.view("b").exercise?.step.question?.text).toBe(seen.at(-1));
      run.act(speaker, { type: "say", text: "more" });
    }
    return seen;
  }

  it("follows the deck's order without a seed, and a fixed shuffle with one", () => {
    expect(questionsSeen(undefined)).toEqual(["First question?", "Second question?"]);
    expect(questionsSeen(12345)).toEqual(questionsSeen(12345));
    const orders = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => questionsSeen(seed).join("|")));
    expect(orders.size).toBeGreaterThan(1);
  });

  it("shows the question's place in its deck", () => {
    const run = guided().act("a", { type: "start-exercise", exerciseId: "fx-guess" });
    expect(run.view("b").exercise?.step.question).toEqual({
      text: "First question?",
      deck: "about",
      deckTitle: "About you",
      number: 1,
      count: 3,
    });
  });

  it("every round of a deck is a permutation of it, the same for the same seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LIMITS.seedMax }), fc.integer({ min: 1, max: 40 }), (seed, size) => {
        for (const round of [0, 1, 2]) {
          const drawn = Array.from({ length: size }, (_, i) => drawIndex(seed, size, round * size + i));
          expect([...drawn].sort((x, y) => x - y)).toEqual(Array.from({ length: size }, (_, i) => i));
          expect(drawn).toEqual(Array.from({ length: size }, (_, i) => drawIndex(seed, size, round * size + i)));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("going back a step shows the question it showed before", () => {
    const { state } = therapistSession("typed");
    const run = new Run(state).act("therapist", { type: "start-exercise", exerciseId: "fx-guess", seed: 99 });
    const first = run.view("a").exercise!.step.question!;
    run.act("therapist", { type: "skip-step" }).act("therapist", { type: "back-step" });
    expect(run.step).toBe("open");
    expect(run.view("a").exercise!.step.question).toEqual(first);
  });
});

/** Plays fx-plan's ideas step with these ideas. */
function withIdeas(run: Run, a: string[], b: string[]): Run {
  run.act("a", { type: "start-exercise", exerciseId: "fx-plan" });
  run.act("a", { type: "answer", answer: { ideas: a } });
  expect(JSON.stringify(run.view("b"))).not.toContain(a[0]!);
  return run.act("b", { type: "answer", answer: { ideas: b } });
}

describe("idea answers and pick steps", () => {
  it("checks idea lists against the step", () => {
    const run = guided().act("a", { type: "start-exercise", exerciseId: "fx-plan" });
    run.refuse("a", { type: "answer", answer: {} }, "INVALID_ANSWER");
    run.refuse("a", { type: "answer", answer: { ideas: ["1", "2", "3", "4"] } }, "INVALID_ANSWER");
    run.refuse("a", { type: "answer", answer: { ideas: [" "] } }, "INVALID_COMMAND");
    run.refuse("a", { type: "answer", answer: { ideas: ["x".repeat(81)] } }, "TEXT_TOO_LONG");
    run.refuse("a", { type: "answer", answer: { ideas: ["walk"], note: "hi" } }, "INVALID_ANSWER");
    const check = guided().act("a", { type: "start-exercise", exerciseId: "fx-checkin" });
    check.refuse("a", { type: "answer", answer: { rating: 3, feeling: "calm", ideas: ["x"] } }, "INVALID_ANSWER");
  });

  it("offers both partners' ideas alternating; picked together only when both pick the same", () => {
    const run = withIdeas(guided(), ["#walk#", "#cook#"], ["#film#"]);
    expect(run.step).toBe("together");
    const options = [
      { id: "a-0", label: "#walk#", by: "a", index: 0 },
      { id: "b-0", label: "#film#", by: "b", index: 0 },
      { id: "a-1", label: "#cook#", by: "a", index: 1 },
    ];
    for (const seat of ["a", "b"] as const) {
      expect(run.view(seat).exercise?.step.pick).toEqual({ together: true, from: "ideas", options });
      expect(run.view(seat).exercise?.step.yourMove).toBe(true);
    }
    run.refuse("a", { type: "pick", option: "b-1" }, "UNKNOWN_OPTION");
    run.act("a", { type: "pick", option: "b-0" });
    expect(run.view("b").exercise?.step.pick?.picks).toEqual({ a: "b-0" });
    expect(run.view("a").exercise?.step.yourMove).toBe(false);
    run.refuse("a", { type: "pick", option: "b-0" }, "ALREADY_ANSWERED");
    run.act("b", { type: "pick", option: "a-1" });
    expect(run.step).toBe("together");
    // Different picks: both have a move again.
    expect(run.view("a").exercise?.step.yourMove).toBe(true);
    expect(run.view("b").exercise?.step.yourMove).toBe(true);
    run.act("a", { type: "pick", option: "a-1" });
    expect(run.step).toBe("when");
    expect(run.state.transcript.at(-1)).toMatchObject({
      kind: "choice",
      stepId: "together",
      option: "a-1",
      label: "#cook#",
      idea: { stepId: "ideas", by: "a", index: 1 },
    });
    // The picked idea carries where it was written (a sealed one is opened from there).
    expect(run.view("a").exercise?.step.agreement).toMatchObject({
      picked: "#cook#",
      pickedFrom: { stepId: "ideas", by: "a", index: 1 },
    });
  });

  it("a pick by one role is made by that partner alone", () => {
    const run = withIdeas(guided(), ["walk"], ["film"]);
    run.act("a", { type: "pick", option: "a-0" }).act("b", { type: "pick", option: "a-0" });
    run.act("a", { type: "agree", when: new Date(run.now + 2 * HOUR).toISOString() }).act("b", { type: "acknowledge" });
    expect(run.step).toBe("second");
    // Speaker is a, so the listener b picks.
    run.refuse("a", { type: "pick", option: "b-0" }, "NOT_YOUR_TURN");
    expect(run.view("a").exercise?.step.yourMove).toBe(false);
    run.act("b", { type: "pick", option: "b-0" });
    expect(run.step).toBe("promise");
  });

  it("refuses to pick when the ideas were never revealed", () => {
    const { state } = therapistSession("typed");
    const run = new Run(state)
      .act("therapist", { type: "start-exercise", exerciseId: "fx-plan" })
      .act("therapist", { type: "skip-step" });
    expect(run.step).toBe("together");
    run.refuse("a", { type: "pick", option: "a-0" }, "NOTHING_TO_PICK");
    expect(run.view("a").exercise?.step.pick?.options).toEqual([]);
    expect(run.view("a").exercise?.step.yourMove).toBe(false);
  });
});

describe("agreement steps", () => {
  function atWhen(channel: "typed" | "spoken" = "typed"): Run {
    const run = withIdeas(guided(channel), ["walk"], ["film"]);
    return run.act("a", { type: "pick", option: "b-0" }).act("b", { type: "pick", option: "b-0" });
  }

  it("with actor both: one offers, the other may counter, and the one who did not offer acknowledges", () => {
    const run = atWhen();
    const soon = new Date(run.now + 3 * HOUR).toISOString();
    const later = new Date(run.now + 5 * HOUR).toISOString();
    run.refuse("a", { type: "acknowledge" }, "NO_OFFER");
    run.act("a", { type: "agree", when: soon, option: "out" });
    for (const seat of ["a", "b"] as const) {
      expect(run.view(seat).exercise?.step.agreement?.offer).toEqual({
        by: "a",
        at: run.now,
        when: soon,
        option: "out",
        label: "Out",
      });
    }
    expect(run.view("a").exercise?.step.yourMove).toBe(false);
    expect(run.view("b").exercise?.step.yourMove).toBe(true);
    run.refuse("a", { type: "acknowledge" }, "NOT_YOUR_TURN");
    // b counters with another time: now a answers.
    run.act("b", { type: "agree", when: later, what: "After lunch" });
    run.refuse("b", { type: "acknowledge" }, "NOT_YOUR_TURN");
    run.act("a", { type: "acknowledge" });
    expect(run.step).toBe("second");
    const kept: Agreement = {
      v: run.state.version,
      at: run.now,
      exerciseId: "fx-plan",
      stepId: "when",
      by: "b",
      acknowledgedBy: "a",
      what: "After lunch",
      picked: "film",
      pickedFrom: { stepId: "ideas", by: "b", index: 0 },
      when: later,
    };
    expect(run.state.agreements).toEqual([kept]);
    for (const seat of ["a", "b"] as const) expect(run.view(seat).agreements).toEqual([kept]);
  });

  it("checks the time and the words against the step", () => {
    const run = atWhen();
    const t = (ms: number) => new Date(run.now + ms).toISOString();
    run.refuse("a", { type: "agree" }, "INVALID_AGREEMENT");
    run.refuse("a", { type: "agree", option: "out" }, "INVALID_AGREEMENT");
    run.refuse("a", { type: "agree", when: t(-60_000) }, "INVALID_AGREEMENT");
    run.refuse("a", { type: "agree", when: t(0) }, "INVALID_AGREEMENT");
    run.refuse("a", { type: "agree", when: t(49 * HOUR) }, "INVALID_AGREEMENT");
    run.refuse("a", { type: "agree", when: "2026-05-01T19:30" }, "INVALID_COMMAND");
    run.refuse("a", { type: "agree", when: "tomorrow" }, "INVALID_COMMAND");
    // Bounded, so the offer waiting in the core stays small.
    run.refuse("a", { type: "agree", when: `2023-11-15T10:00:00.${"1".repeat(40)}Z` }, "INVALID_COMMAND");
    run.refuse("a", { type: "agree", when: t(HOUR), option: "moon" }, "UNKNOWN_OPTION");
    run.refuse("a", { type: "agree", when: t(HOUR), option: "out", what: "both" }, "INVALID_AGREEMENT");
    run.refuse("a", { type: "agree", when: t(HOUR), what: " " }, "TEXT_REQUIRED");
    run.refuse("a", { type: "agree", when: t(HOUR), what: "x".repeat(201) }, "TEXT_TOO_LONG");
    // The far edge of the window is still inside it (judged at the moment of the offer).
    const edge = new Date(run.now + 1000 + 48 * HOUR).toISOString();
    run.act("a", { type: "agree", when: edge });
    expect(run.state.turn?.offer?.when).toBe(edge);
  });

  it("keeps words out of a spoken agreement but takes its options and its time", () => {
    const run = atWhen("spoken");
    const when = new Date(run.now + HOUR).toISOString();
    run.refuse("a", { type: "agree", when, what: "typed words" }, "TEXT_NOT_ALLOWED");
    run.act("a", { type: "agree", when, option: "home" }).act("b", { type: "acknowledge" });
    expect(run.state.agreements[0]).toMatchObject({ what: "At home", option: "home", when, picked: "film" });
  });

  it("an offer by one role is acknowledged by the other; without acknowledgement it is kept at once", () => {
    const run = atWhen();
    run.act("a", { type: "agree", when: new Date(run.now + HOUR).toISOString() }).act("b", { type: "acknowledge" });
    run.act("b", { type: "pick", option: "a-0" });
    expect(run.step).toBe("promise");
    run.refuse("b", { type: "agree", what: "I will" }, "NOT_YOUR_TURN");
    run.refuse("a", { type: "agree" }, "INVALID_AGREEMENT");
    run.refuse("a", { type: "agree", when: new Date(run.now + HOUR).toISOString() }, "INVALID_AGREEMENT");
    run.act("a", { type: "agree", what: "I'll put my phone away at dinner" });
    // The author may change the offer until it is acknowledged.
    run.act("a", { type: "agree", what: "No phones at dinner" });
    expect(run.view("b").exercise?.step.yourMove).toBe(true);
    run.refuse("a", { type: "acknowledge" }, "NOT_YOUR_TURN");
    run.act("b", { type: "acknowledge" });
    expect(run.state.agreements.at(-1)).toMatchObject({
      by: "a",
      acknowledgedBy: "b",
      what: "No phones at dinner",
      stepId: "promise",
    });
    expect(run.step).toBe("note");
    run.refuse("b", { type: "agree" }, "INVALID_AGREEMENT");
    run.act("b", { type: "agree", what: "Bring the umbrella" });
    expect(run.state.phase).toBe("lobby");
    expect(run.state.agreements.at(-1)).toMatchObject({ by: "b", what: "Bring the umbrella", stepId: "note" });
    expect(run.state.agreements.at(-1)?.acknowledgedBy).toBeUndefined();
    expect(run.state.agreements.map((a) => a.stepId)).toEqual(["when", "promise", "note"]);
  });

  it("keeps at most the session's limit of agreements", () => {
    const run = atWhen();
    const full: Agreement[] = Array.from({ length: LIMITS.agreementsMax }, (_, i) => ({
      v: i,
      at: T0,
      exerciseId: "fx-plan",
      stepId: "note",
      by: "a",
      what: `agreement ${i}`,
    }));
    run.state = { ...run.state, agreements: full };
    run.refuse("a", { type: "agree", when: new Date(run.now + HOUR).toISOString() }, "TOO_MANY_AGREEMENTS");
    const allowed = viewFor(run.state, "a").allowed.find((c) => c.type === "agree");
    expect(allowed).toMatchObject({ allowed: false, code: "TOO_MANY_AGREEMENTS" });
  });

  it("a partner in the waiting room sees no agreement; a core stored before agreements still works", () => {
    const { state } = therapistSession("typed", false);
    const withOne = {
      ...state,
      agreements: [{ v: 1, at: T0, exerciseId: "x", stepId: "y", by: "a" as const, what: "#kept#" }],
    };
    expect(JSON.stringify(viewFor(withOne, "a"))).not.toContain("#kept#");
    expect(viewFor(withOne, "therapist").agreements).toHaveLength(1);
    const { agreements: _drop, ...old } = withOne;
    const legacy = old as unknown as SessionState;
    expect(viewFor(legacy, "therapist").agreements).toEqual([]);
    const admitted = act(legacy, "therapist", { type: "admit", partners: ["a", "b"] });
    expect(admitted.agreements).toEqual([]);
  });
});

describe("validation of the new kinds", () => {
  /** A valid definition using every new part; each case below breaks one thing in a fresh copy. */
  function base() {
    return structuredClone({
      ...PLAN,
      id: "kinds",
      decks: GUESSING.decks,
      steps: [...structuredClone(GUESSING.steps).slice(0, 2), ...structuredClone(PLAN.steps)].map((s, i) =>
        i === 1 ? { ...s, next: { to: "ideas" } } : s,
      ),
    }) as unknown as { decks: unknown[]; steps: Record<string, unknown>[] } & Record<string, unknown>;
  }
  // biome-ignore lint/suspicious/noExplicitAny: malformed inputs are deliberately outside the typed shape
  type Loose = any;
  const cases: [string, (d: ReturnType<typeof base>) => void, { path: string; message: string }[]][] = [
    [
      "a guess step without its fields",
      (d) => {
        delete (d.steps[0] as Loose).guess;
      },
      [{ path: "steps[0].guess", message: "a 'guess' step needs 'guess'" }],
    ],
    [
      "guess fields on a say step",
      (d) => {
        (d.steps[0] as Loose).kind = "say";
      },
      [{ path: "steps[0].guess", message: "only 'guess' steps have 'guess'" }],
    ],
    [
      "a guess step not acted by both",
      (d) => {
        (d.steps[0] as Loose).actor = "speaker";
      },
      [
        {
          path: "steps[0].actor",
          message: "a 'guess' step is acted by 'both' (the speaker answers, the listener guesses)",
        },
      ],
    ],
    [
      "a reveal with words for one role only",
      (d) => {
        (d.steps[1] as Loose).guess.reveal = { speaker: "Only you." };
      },
      [
        {
          path: "steps[1].guess.reveal",
          message: "the reveal needs words for both partners: 'all', or both 'speaker' and 'listener'",
        },
      ],
    ],
    [
      "duplicate guess choices",
      (d) => {
        (d.steps[1] as Loose).guess.choices[1].id = "tea";
      },
      [{ path: "steps[1].guess.choices[1].id", message: "duplicate choice id 'tea'" }],
    ],
    [
      "one guess choice",
      (d) => {
        (d.steps[1] as Loose).guess.choices.pop();
      },
      [{ path: "steps[1].guess.choices", message: "Too small: expected array to have >=2 items" }],
    ],
    [
      "a timed guess step",
      (d) => {
        (d.steps[0] as Loose).durationSeconds = 60;
      },
      [{ path: "steps[0].durationSeconds", message: "a 'guess' step is not timed" }],
    ],
    [
      "an unknown deck",
      (d) => {
        (d.steps[0] as Loose).question.deck = "nowhere";
      },
      [{ path: "steps[0].question.deck", message: "unknown deck 'nowhere' (declare it in the exercise's 'decks')" }],
    ],
    [
      "duplicate deck ids",
      (d) => {
        d.decks.push(structuredClone(d.decks[0]));
      },
      [{ path: "decks[1].id", message: "duplicate deck id 'about'" }],
    ],
    [
      "a pick from an unknown step",
      (d) => {
        (d.steps[3] as Loose).pick.from = "nowhere";
      },
      [{ path: "steps[3].pick.from", message: "unknown step 'nowhere'" }],
    ],
    [
      "a pick from a step without ideas",
      (d) => {
        (d.steps[3] as Loose).pick.from = "open";
      },
      [{ path: "steps[3].pick.from", message: "step 'open' must be a 'private-answer' step that asks for ideas" }],
    ],
    [
      "a pick by the therapist",
      (d) => {
        (d.steps[3] as Loose).actor = "therapist";
        (d as Loose).modes = ["therapist"];
      },
      [{ path: "steps[3].actor", message: "a 'pick' step is the couple's: speaker, listener or both" }],
    ],
    [
      "ideas asking for too many",
      (d) => {
        (d.steps[2] as Loose).answer.ideas.max = 6;
      },
      [{ path: "steps[2].answer.ideas.max", message: "Too big: expected number to be <=5" }],
    ],
    [
      "an agreement asking for nothing",
      (d) => {
        (d.steps[4] as Loose).agreement = { withinHours: 3 };
      },
      [
        { path: "steps[4].agreement", message: "an agreement needs 'what', 'when' or both" },
        { path: "steps[4].agreement.withinHours", message: "'withinHours' needs 'when'" },
      ],
    ],
    [
      "agreement options without what",
      (d) => {
        delete (d.steps[4] as Loose).agreement.what;
      },
      [
        {
          path: "steps[4].agreement.options",
          message: "'options' are answers for 'what', which this step does not ask",
        },
      ],
    ],
    [
      "acknowledge with actor both",
      (d) => {
        (d.steps[4] as Loose).agreement.acknowledge = true;
      },
      [
        {
          path: "steps[4].agreement.acknowledge",
          message: "with actor 'both' one partner offers and the other acknowledges already; leave 'acknowledge' out",
        },
      ],
    ],
    [
      "an agreement about a step that is not a pick",
      (d) => {
        (d.steps[4] as Loose).agreement.picked = "ideas";
      },
      [{ path: "steps[4].agreement.picked", message: "step 'ideas' must be a 'pick' step" }],
    ],
    [
      "a window of more than a year",
      (d) => {
        (d.steps[4] as Loose).agreement.withinHours = 9000;
      },
      [{ path: "steps[4].agreement.withinHours", message: "Too big: expected number to be <=8784" }],
    ],
    [
      "an agreement step without its fields",
      (d) => {
        delete (d.steps[6] as Loose).agreement;
      },
      [{ path: "steps[6].agreement", message: "an 'agreement' step needs 'agreement'" }],
    ],
    [
      "an unknown field in agreement",
      (d) => {
        (d.steps[6] as Loose).agreement.where = "park";
      },
      [{ path: "steps[6].agreement.where", message: "unknown field 'where'" }],
    ],
  ];

  it("accepts the base definition", () => {
    expect(validateExercise(base())).toMatchObject({ ok: true });
  });

  it.each(cases)("rejects %s at the exact path", (_name, breakIt, expected) => {
    const def = base();
    breakIt(def);
    const result = validateExercise(def);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect([...result.problems].sort((x, y) => x.path.localeCompare(y.path))).toEqual(expected);
  });
});
