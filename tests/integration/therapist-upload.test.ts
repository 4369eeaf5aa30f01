/**
 * The console's upload panel shows exactly the problems the validator finds: a broken definition sent over a real
 * socket is refused with INVALID_DEFINITION, and splitting that refusal the way the console does gives back every
 * problem of validateExercise, each with its path, in order. Text that is not JSON never reaches the server.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseDefinition, splitProblems } from "../../client/src/console/CustomExercise.tsx";
import { Participant } from "../../client/headless/participant.ts";
import { validateExercise } from "../../shared/exercise-format.ts";
import { createTestSession, startTestServer } from "../support/server.ts";

const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

const step = (over: Record<string, unknown>) => ({
  id: "share",
  title: "Share",
  actor: "speaker",
  kind: "say",
  prompt: { all: "Say one thing." },
  next: { to: "@end" },
  ...over,
});

/** Definitions with one or several problems each, at different depths. */
const BROKEN: { name: string; definition: unknown }[] = [
  { name: "empty object", definition: {} },
  {
    name: "bad id, unknown field, bad transition",
    definition: { id: "Bad Id", title: "T", summary: "S", colour: "blue", steps: [step({ next: { to: "nowhere" } })] },
  },
  {
    name: "choose without options, duplicate step id",
    definition: {
      id: "two-problems",
      title: "T",
      summary: "S",
      steps: [step({}), step({ kind: "choose", next: undefined })],
    },
  },
  {
    name: "deep: an option leading nowhere and a rating the wrong way round",
    definition: {
      id: "deep",
      title: "T",
      summary: "S",
      steps: [
        step({
          kind: "choose",
          next: undefined,
          options: [{ id: "ok", label: "OK", next: { to: "missing" } }],
        }),
        step({
          id: "feel",
          actor: "both",
          kind: "private-answer",
          answer: { rating: { min: 5, max: 3 } },
        }),
      ],
    },
  },
];

describe("custom exercise problems as the console shows them", () => {
  it.each(BROKEN)("$name: every validator problem comes back with its path", async ({ definition }) => {
    const server = await startTestServer();
    const created = await createTestSession(server.url, { mode: "therapist", channel: "typed" });
    const t = await Participant.join(created.links.therapist!);
    open.push(t);
    const expected = validateExercise(JSON.parse(JSON.stringify(definition)));
    expect(expected.ok).toBe(false);
    if (expected.ok) return;

    const ack = await t.send({ type: "add-exercise", definition: JSON.parse(JSON.stringify(definition)) });
    expect(ack.ok).toBe(false);
    if (ack.ok) return;
    expect(ack.error.code).toBe("INVALID_DEFINITION");
    const shown = splitProblems(ack.error.message);
    expect(shown).toEqual(expected.problems);
    for (const problem of shown) expect(problem.path.length).toBeGreaterThan(0);
    expect(t.view.agenda.map((e) => e.id)).not.toContain((definition as { id?: string }).id);
  });

  it("text that is not JSON is caught before sending, with where it broke", () => {
    const parsed = parseDefinition('{ "id": "x", ');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.problem.path).toBe("(root)");
      expect(parsed.problem.message).toMatch(/^not valid JSON: /);
    }
    expect(parseDefinition("x".repeat(60_001))).toMatchObject({ ok: false });
    expect(parseDefinition('{"id":"ok"}')).toEqual({ ok: true, value: { id: "ok" } });
  });
});
