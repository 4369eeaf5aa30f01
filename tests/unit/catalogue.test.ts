/**
 * The catalogue is valid data, and the validator a therapist's upload goes through says exactly what is wrong
 * and where.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CATALOGUE, findExercise, isCatalogueId } from "../../shared/catalogue/index.ts";
import {
  CYCLE,
  END,
  type ExerciseDefinition,
  type StepDefinition,
  StepSchema,
  validateExercise,
} from "../../shared/exercise-format.ts";

const EXPECTED_IDS = [
  "intentional-dialogue",
  "speaker-listener",
  "stress-reducing",
  "appreciation",
  "check-in",
  "repair",
  "love-maps",
  "deeper-questions",
  "plan-time",
  "weekly-check-in",
  "dreams-within-conflict",
  "rebuilding-trust",
];

function targets(step: StepDefinition): string[] {
  return step.kind === "choose" ? (step.options ?? []).map((o) => o.next.to) : step.next ? [step.next.to] : [];
}

/** Step ids reachable from the first step, following every transition. */
function reachable(def: ExerciseDefinition): Set<string> {
  const byId = new Map(def.steps.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const queue = [def.steps[0]!.id];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const to of targets(byId.get(id)!)) if (to !== END && to !== CYCLE) queue.push(to);
  }
  return seen;
}

/** Whether some path from `from` reaches "@end" or "@cycle", i.e. the exercise can always finish. */
function canFinish(def: ExerciseDefinition, from: string): boolean {
  const byId = new Map(def.steps.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const id = queue.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const to of targets(byId.get(id)!)) {
      if (to === END || to === CYCLE) return true;
      queue.push(to);
    }
  }
  return false;
}

describe("the catalogue", () => {
  it("holds exactly the twelve exercises, with unique ids", () => {
    const ids = CATALOGUE.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...EXPECTED_IDS].sort());
  });

  describe.each(CATALOGUE.map((e) => [e.id, e] as const))("%s", (_id, def) => {
    it("validates (as JSON too, as if uploaded)", () => {
      const result = validateExercise(JSON.parse(JSON.stringify(def)));
      expect(result).toEqual({ ok: true, definition: def });
    });

    it("reaches every step from the first, and can finish from every step", () => {
      const seen = reachable(def);
      expect(def.steps.filter((s) => !seen.has(s.id)).map((s) => s.id)).toEqual([]);
      for (const step of def.steps) expect(canFinish(def, step.id), step.id).toBe(true);
    });

    it("tells partners in both channels what to do: every prompt offers saying or typing where words are needed", () => {
      for (const step of def.steps) {
        const acting = step.actor === "both" ? ["speaker", "listener"] : [step.actor];
        for (const role of acting) {
          const text = step.prompt[role as keyof typeof step.prompt] ?? step.prompt.all;
          expect(text, `${step.id} (${role})`).toBeTruthy();
          if (step.kind === "say") expect(text, `${step.id} (${role})`).toMatch(/\b(say|type)\b/i);
        }
        if (step.actor !== "both") {
          const other = step.actor === "speaker" ? "listener" : "speaker";
          expect(step.prompt[other] ?? step.prompt.all, `${step.id} (${other} waits with a prompt)`).toBeTruthy();
        }
      }
    });

    it("runs in guided mode (no therapist steps), unless it is for therapist sessions only", () => {
      if (def.modes?.includes("guided") === false) {
        expect(def.modes).toEqual(["therapist"]);
        return;
      }
      expect(def.steps.some((s) => s.actor === "therapist")).toBe(false);
      expect(def.modes === undefined || def.modes.includes("guided")).toBe(true);
    });
  });

  it("has the structure the reference asks for", () => {
    const dialogue = findExercise("intentional-dialogue")!;
    expect(dialogue.cycles).toBe(2);
    const check = dialogue.steps.find((s) => s.id === "check")!;
    expect(check.options?.map((o) => [o.id, o.next.to])).toEqual([
      ["got-it", "summary"],
      ["not-quite", "clarify"],
      ["more", "send"],
    ]);

    const floor = findExercise("speaker-listener")!;
    expect(floor.cycles).toBeUndefined();
    const confirm = floor.steps.find((s) => s.id === "confirm")!;
    expect(confirm.options?.map((o) => o.next.to)).toEqual(["speak", "restate", CYCLE, END]);

    const stress = findExercise("stress-reducing")!;
    expect(stress.steps[0]).toMatchObject({ kind: "talk", actor: "speaker", next: { to: CYCLE } });
    expect(stress.steps[0]!.durationSeconds).toBeGreaterThanOrEqual(300);
    expect(stress.steps[0]!.durationSeconds).toBeLessThanOrEqual(1200);

    const checkIn = findExercise("check-in")!;
    expect(checkIn.steps[0]).toMatchObject({ kind: "private-answer", actor: "both" });
    expect(checkIn.steps[0]!.answer?.rating).toEqual({ min: 1, max: 10 });
    expect(checkIn.steps[0]!.answer?.feelings?.length).toBeGreaterThanOrEqual(8);

    const repair = findExercise("repair")!;
    expect(repair.intro).toMatch(/calm/i);
    for (const stage of ["feelings", "realities", "triggers", "responsibility", "plan"]) {
      // Both partners share in every stage: one swap inside the stage, one handing the next stage back.
      expect(repair.steps.some((s) => s.id === `${stage}-share`)).toBe(true);
      expect(repair.steps.some((s) => s.id === `${stage}-share-2`)).toBe(true);
    }
    const swaps = repair.steps.flatMap((s) =>
      [s.next, ...(s.options ?? []).map((o) => o.next)].filter((t) => t?.swapRoles),
    );
    expect(swaps.length).toBe(10);
  });
});

describe("the exercises of the guess, pick and agreement kinds", () => {
  const stepOf = (id: string, stepId: string) => findExercise(id)!.steps.find((s) => s.id === stepId)!;

  it("love maps: a guess about the speaker's own world from at least 20 questions, then a swap", () => {
    const def = findExercise("love-maps")!;
    expect(def.decks?.[0]?.questions.length).toBeGreaterThanOrEqual(20);
    expect(new Set(def.decks?.[0]?.questions).size).toBe(def.decks?.[0]?.questions.length);
    expect(def.steps[0]).toMatchObject({ kind: "guess", actor: "both", question: { deck: "world" } });
    expect(stepOf("love-maps", "again").options?.map((o) => o.next.to)).toEqual([CYCLE, END]);
  });

  it("deeper questions: three sets that deepen, alternate readers, and an easy stop after every question", () => {
    const def = findExercise("deeper-questions")!;
    expect(def.decks?.map((d) => d.id)).toEqual(["set-1", "set-2", "set-3"]);
    for (const n of [1, 2, 3]) {
      expect(stepOf(def.id, `ask-${n}`)).toMatchObject({ kind: "say", actor: "both", question: { deck: `set-${n}` } });
      const next = stepOf(def.id, `next-${n}`);
      // Every "another" hands the reading to the other partner.
      expect(next.options?.find((o) => o.id === "another")?.next).toEqual({ to: `ask-${n}`, swapRoles: true });
      const stop = next.options?.at(-1)?.next.to;
      expect(n === 3 ? stop === "thanks" : stop === END, `next-${n}`).toBe(true);
    }
    expect(stepOf(def.id, "thanks").next?.to).toBe(END);
  });

  it("plan time: private ideas, one picked together, a time agreed about it in the next two weeks", () => {
    expect(stepOf("plan-time", "ideas")).toMatchObject({ kind: "private-answer", answer: { ideas: { max: 3 } } });
    expect(stepOf("plan-time", "pick")).toMatchObject({ kind: "pick", actor: "both", pick: { from: "ideas" } });
    expect(stepOf("plan-time", "when")).toMatchObject({
      kind: "agreement",
      actor: "both",
      agreement: { picked: "pick", when: "required", withinHours: 336 },
    });
  });

  it("weekly check-in: appreciations, what went well, one issue on the floor, the week ahead", () => {
    const def = findExercise("weekly-check-in")!;
    expect(def.steps.map((s) => s.id)).toEqual([
      "appreciate",
      "went-well",
      "issue-speak",
      "issue-sum-up",
      "issue-check",
      "needs",
    ]);
    expect(stepOf(def.id, "issue-check").options?.map((o) => [o.next.to, o.next.swapRoles ?? false])).toEqual([
      ["issue-speak", false],
      ["issue-speak", false],
      ["issue-speak", true],
      ["needs", false],
    ]);
  });

  it("dreams within conflict: a timed turn for each dreamer, the listener asks from gentle questions", () => {
    for (const suffix of ["", "-2"]) {
      const explore = stepOf("dreams-within-conflict", `explore${suffix}`);
      expect(explore).toMatchObject({ kind: "talk", actor: "speaker", durationSeconds: 900 });
      expect(explore.stems?.listener?.length).toBeGreaterThanOrEqual(6);
      expect(explore.stems?.listener?.every((q) => q.endsWith("?"))).toBe(true);
    }
    expect(stepOf("dreams-within-conflict", "heard").options?.[0]?.next).toEqual({ to: "position-2", swapRoles: true });
  });

  it("rebuilding trust: therapist-led only, questions without defending, commitments on both sides", () => {
    const def = findExercise("rebuilding-trust")!;
    expect(def.modes).toEqual(["therapist"]);
    expect(stepOf(def.id, "commit-speaker")).toMatchObject({
      kind: "agreement",
      actor: "speaker",
      agreement: { what: "required", acknowledge: true },
    });
    expect(stepOf(def.id, "commit-listener")).toMatchObject({
      kind: "agreement",
      actor: "listener",
      agreement: { what: "required", acknowledge: true },
    });
    expect(stepOf(def.id, "answer").prompt.speaker).toMatch(/defend/);
  });

  it("gives every exercise closing words, and every named ending is reached by a path to the end", () => {
    for (const def of CATALOGUE) {
      expect(def.closing?.length ?? 0, def.id).toBeGreaterThan(0);
      const reached = new Set(
        def.steps
          .flatMap((s) => [...(s.options ?? []).map((o) => o.next), ...(s.next ? [s.next] : [])])
          .map((t) => {
            if (t.ending !== undefined) expect(t.to, `${def.id} ${t.ending}`).toBe(END);
            return t.ending;
          }),
      );
      for (const ending of def.endings ?? []) expect(reached.has(ending.id), `${def.id} ${ending.id}`).toBe(true);
    }
    const postponed = findExercise("intentional-dialogue")!.endings?.find((e) => e.outcome === "postponed");
    expect(postponed?.words).toMatch(/time you agreed/);
  });
});

describe("findExercise", () => {
  const custom: ExerciseDefinition = {
    id: "gratitude-walk",
    title: "Gratitude walk",
    summary: "A short custom exercise.",
    steps: [
      { id: "share", title: "Share", actor: "speaker", kind: "say", prompt: { all: "Say it." }, next: { to: END } },
    ],
  };

  it("finds catalogue and custom exercises, and nothing for an unknown id", () => {
    expect(findExercise("repair")?.title).toBe(CATALOGUE.find((e) => e.id === "repair")?.title);
    expect(findExercise("gratitude-walk", [custom])).toBe(custom);
    expect(findExercise("gratitude-walk")).toBeUndefined();
    expect(findExercise("nope", [custom])).toBeUndefined();
  });

  it("lets catalogue ids win over a custom exercise that reuses one", () => {
    const impostor = { ...custom, id: "check-in", title: "Impostor" };
    expect(findExercise("check-in", [impostor])?.title).toBe("Emotional check-in");
    expect(isCatalogueId("check-in")).toBe(true);
    expect(isCatalogueId("gratitude-walk")).toBe(false);
  });
});

/** A small valid definition; each malformed case below breaks exactly one thing in a fresh copy. */
function valid(): Record<string, unknown> & { steps: Record<string, unknown>[] } {
  return {
    id: "tiny",
    title: "Tiny",
    summary: "Two steps.",
    cycles: 2,
    steps: [
      {
        id: "share",
        title: "Share",
        actor: "speaker",
        kind: "say",
        prompt: { speaker: "Say (or type) it.", listener: "Listen." },
        next: { to: "check" },
      },
      {
        id: "check",
        title: "Check",
        actor: "speaker",
        kind: "choose",
        prompt: { all: "Did it land?" },
        options: [
          { id: "yes", label: "Yes", next: { to: "@cycle" } },
          { id: "again", label: "Again", next: { to: "share", swapRoles: false } },
        ],
      },
      {
        id: "feel",
        title: "Feel",
        actor: "both",
        kind: "private-answer",
        prompt: { all: "How are you?" },
        answer: { rating: { min: 1, max: 10 }, feelings: ["ok", "not ok"], note: true },
        next: { to: "@end" },
      },
    ],
  };
}

type Def = ReturnType<typeof valid>;
// biome-ignore lint/suspicious/noExplicitAny: malformed inputs are deliberately outside the typed shape
type Loose = any;

/** Expected problems are listed sorted by path. */
const malformed: [
  name: string,
  breakIt: (d: Def) => unknown,
  problems: { path: string; message: string | RegExp }[],
][] = [
  [
    "a missing field",
    (d) => {
      delete (d.steps[1] as Loose).title;
    },
    [{ path: "steps[1].title", message: /expected string, received undefined/ }],
  ],
  [
    "a missing top-level field",
    (d) => {
      delete (d as Loose).summary;
    },
    [{ path: "summary", message: /expected string/ }],
  ],
  [
    "an unknown step target",
    (d) => {
      (d.steps[1] as Loose).options[0].next.to = "sumary";
    },
    [
      {
        path: "steps[1].options[0].next.to",
        message: "unknown step 'sumary' (use a step id of this exercise, '@end' or '@cycle')",
      },
    ],
  ],
  [
    "an unknown next target",
    (d) => {
      (d.steps[0] as Loose).next.to = "nowhere";
    },
    [{ path: "steps[0].next.to", message: /unknown step 'nowhere'/ }],
  ],
  [
    "duplicate step ids",
    (d) => {
      d.steps[2]!.id = "share";
    },
    [{ path: "steps[2].id", message: "duplicate step id 'share'" }],
  ],
  [
    "duplicate option ids",
    (d) => {
      (d.steps[1] as Loose).options[1].id = "yes";
    },
    [{ path: "steps[1].options[1].id", message: "duplicate option id 'yes'" }],
  ],
  [
    "a choose step without options",
    (d) => {
      delete d.steps[1]!.options;
    },
    [{ path: "steps[1].options", message: "a 'choose' step needs options" }],
  ],
  [
    "a choose step with an empty options list",
    (d) => {
      d.steps[1]!.options = [];
    },
    [{ path: "steps[1].options", message: /expected array to have >=1 items/ }],
  ],
  [
    "a choose step with next",
    (d) => {
      d.steps[1]!.next = { to: "share" };
    },
    [{ path: "steps[1].next", message: "a 'choose' step leads by its options, not 'next'" }],
  ],
  [
    "a choose step by both",
    (d) => {
      d.steps[1]!.actor = "both";
    },
    [{ path: "steps[1].actor", message: "a 'choose' step needs one actor, not 'both'" }],
  ],
  [
    "options on a non-choose step",
    (d) => {
      d.steps[0]!.options = [{ id: "x", label: "X", next: { to: "@end" } }];
    },
    [{ path: "steps[0].options", message: "only 'choose' steps have options, not 'say'" }],
  ],
  [
    "a say step without next",
    (d) => {
      delete d.steps[0]!.next;
    },
    [{ path: "steps[0].next", message: "a 'say' step needs 'next'" }],
  ],
  [
    "a private answer not by both",
    (d) => {
      d.steps[2]!.actor = "speaker";
    },
    [{ path: "steps[2].actor", message: "a 'private-answer' step is answered by 'both'" }],
  ],
  [
    "a private answer with no fields",
    (d) => {
      d.steps[2]!.answer = {};
    },
    [
      {
        path: "steps[2].answer",
        message: "a 'private-answer' step needs at least one of rating, feelings, note, ideas",
      },
    ],
  ],
  [
    "answer fields on another kind",
    (d) => {
      d.steps[0]!.answer = { note: true };
    },
    [{ path: "steps[0].answer", message: "only 'private-answer' steps have 'answer'" }],
  ],
  [
    "a rating with min >= max",
    (d) => {
      (d.steps[2] as Loose).answer.rating = { min: 5, max: 5 };
    },
    [{ path: "steps[2].answer.rating", message: "rating.min must be below rating.max" }],
  ],
  [
    "a bad exercise slug",
    (d) => {
      d.id = "Check In";
    },
    [{ path: "id", message: "must be lowercase letters, digits and single hyphens (e.g. 'check-in')" }],
  ],
  [
    "a bad step slug",
    (d) => {
      d.steps[1]!.id = "check--it";
    },
    [
      { path: "steps[0].next.to", message: /unknown step 'check'/ },
      { path: "steps[1].id", message: /must be lowercase letters/ },
    ],
  ],
  [
    "a talk step not held by the speaker",
    (d) => {
      d.steps[0]!.kind = "talk";
      d.steps[0]!.actor = "listener";
      d.steps[0]!.prompt = { all: "Talk." };
    },
    [{ path: "steps[0].actor", message: "a 'talk' step is held by the 'speaker'" }],
  ],
  [
    "therapist steps without modes",
    (d) => {
      d.steps[0]!.actor = "therapist";
      d.steps[0]!.prompt = { therapist: "Guide them." };
    },
    [{ path: "modes", message: 'an exercise with therapist steps must set modes: ["therapist"]' }],
  ],
  [
    "therapist steps in a guided-only exercise",
    (d) => {
      d.modes = ["guided"];
      d.steps[0]!.actor = "therapist";
      d.steps[0]!.prompt = { therapist: "Guide them." };
    },
    [{ path: "steps[0].actor", message: "a step acted by the therapist needs modes to include 'therapist'" }],
  ],
  [
    "an actor with no prompt of their own",
    (d) => {
      d.steps[0]!.prompt = { listener: "Listen." };
    },
    [{ path: "steps[0].prompt", message: "a step acted by the speaker needs prompt 'speaker' or 'all'" }],
  ],
  [
    "wrong types",
    (d) => {
      d.cycles = "2";
      (d.steps[0] as Loose).durationSeconds = 12.5;
      (d.steps[1] as Loose).options[0].next.swapRoles = "yes";
    },
    [
      { path: "cycles", message: /expected number, received string/ },
      { path: "steps[0].durationSeconds", message: /expected int/ },
      { path: "steps[1].options[0].next.swapRoles", message: /expected boolean, received string/ },
    ],
  ],
  [
    "an unknown kind and actor",
    (d) => {
      d.steps[0]!.kind = "shout";
      d.steps[1]!.actor = "narrator";
    },
    [
      { path: "steps[0].kind", message: /expected one of "say"\|"choose"\|"private-answer"\|"talk"/ },
      { path: "steps[1].actor", message: /expected one of "speaker"\|"listener"\|"both"\|"therapist"/ },
    ],
  ],
  [
    "extra keys",
    (d) => {
      d.colour = "blue";
      d.steps[1]!.colour = "red";
      (d.steps[1] as Loose).options[0].next.delay = 3;
    },
    [
      { path: "colour", message: "unknown field 'colour'" },
      { path: "steps[1].colour", message: "unknown field 'colour'" },
      { path: "steps[1].options[0].next.delay", message: "unknown field 'delay'" },
    ],
  ],
  [
    "too-long text",
    (d) => {
      d.title = "x".repeat(81);
    },
    [{ path: "title", message: /expected string to have <=80 characters/ }],
  ],
  [
    "a duration out of range",
    (d) => {
      d.steps[0]!.durationSeconds = 5;
    },
    [{ path: "steps[0].durationSeconds", message: /expected number to be >=10/ }],
  ],
  [
    "no steps",
    (d) => {
      d.steps = [];
    },
    [{ path: "steps", message: /expected array to have >=1 items/ }],
  ],
  ["not an object at all", () => "just a string", [{ path: "(root)", message: /expected object, received string/ }]],
  ["null", () => null, [{ path: "(root)", message: /expected object, received null/ }]],
];

describe("validateExercise on malformed definitions", () => {
  it("accepts the valid base definition every case starts from", () => {
    expect(validateExercise(valid()).ok).toBe(true);
  });

  it.each(malformed)("rejects %s with the exact path and message", (_name, breakIt, expected) => {
    const def = valid();
    const replaced = breakIt(def);
    const input = replaced === undefined ? def : replaced;
    const result = validateExercise(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(expected.length);
    const problems = [...result.problems].sort((x, y) => x.path.localeCompare(y.path));
    for (const [i, want] of expected.entries()) {
      const got = problems[i]!;
      expect(got.path).toBe(want.path);
      if (typeof want.message === "string") expect(got.message).toBe(want.message);
      else expect(got.message).toMatch(want.message);
    }
  });

  it("reports every cross-reference problem at once, each at its own place", () => {
    const def = valid();
    (def.steps[0] as Loose).next.to = "gone";
    def.steps[2]!.actor = "listener";
    (def.steps[2] as Loose).answer.rating = { min: 3, max: 2 };
    const result = validateExercise(def);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.path)).toEqual([
      "steps[0].next.to",
      "steps[2].actor",
      "steps[2].answer.rating",
    ]);
  });

  it("never throws, whatever it is given", () => {
    const inputs: unknown[] = [undefined, 0, [], {}, { steps: {} }, { steps: [null] }, { steps: [{ options: 3 }] }];
    for (const input of inputs) {
      const result = validateExercise(input);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems.length).toBeGreaterThan(0);
    }
  });
});

describe("docs/exercise-format.md", () => {
  it("carries a complete example that validates and is fully reachable", () => {
    const doc = readFileSync(new URL("../../docs/exercise-format.md", import.meta.url), "utf8");
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const result = validateExercise(JSON.parse(blocks.at(-1)!));
    expect(result.ok).toBe(true);
    if (result.ok) expect(reachable(result.definition).size).toBe(result.definition.steps.length);
  });

  it("every whole definition it shows validates, and every step example is a valid step", () => {
    const doc = readFileSync(new URL("../../docs/exercise-format.md", import.meta.url), "utf8");
    const blocks = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
    let wholes = 0;
    let steps = 0;
    for (const block of blocks) {
      // Fragments (several transitions in one block, elided parts) are not whole values.
      if (block.includes('"...":')) continue;
      let value: Record<string, unknown>;
      try {
        value = JSON.parse(block) as Record<string, unknown>;
      } catch {
        continue;
      }
      if ("steps" in value && "summary" in value) {
        wholes += 1;
        expect(validateExercise(value), block.slice(0, 40)).toMatchObject({ ok: true });
      } else if ("kind" in value && "actor" in value) {
        steps += 1;
        expect(StepSchema.safeParse(value).success, String(value.id)).toBe(true);
      }
    }
    expect(wholes).toBeGreaterThanOrEqual(2);
    expect(steps).toBeGreaterThanOrEqual(3);
  });
});
