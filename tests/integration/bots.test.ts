/**
 * The headless bots play each exercise built on the new kinds start to end over real sockets (a third bot in the
 * therapist's seat for the therapist-led one), knowing nothing of any exercise beyond what their views say; and
 * `npm run demo -- <id>` does the same from the command line.
 */
import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { playSeat, scriptedChoices } from "../../client/headless/bot.ts";
import { Participant } from "../../client/headless/participant.ts";
import { findExercise } from "../../shared/catalogue/index.ts";
import { createTestSession, startTestServer } from "../support/server.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const open: Participant[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

/** Per exercise, which option each visit of a step takes (then the first option): every loop, and an end. */
const WALKS: Record<string, Record<string, string[]>> = {
  "love-maps": { again: ["swap", "stop"] },
  "deeper-questions": { "next-1": ["another", "next-set"], "next-2": ["next-set"], "next-3": ["finish"] },
  "plan-time": {},
  "weekly-check-in": { "issue-check": ["not-quite", "pass", "understood"] },
  "dreams-within-conflict": { heard: ["not-quite", "yes"] },
  "rebuilding-trust": { more: ["another", "enough"], "reflect-check": ["not-quite", "yes"], next: ["close"] },
};

describe("bots play the new exercises over sockets", () => {
  it.each(Object.keys(WALKS))("%s, both channels", async (id) => {
    const def = findExercise(id)!;
    const mode = def.modes?.includes("guided") === false ? "therapist" : "guided";
    const server = await startTestServer();
    for (const channel of ["typed", "spoken"] as const) {
      const created = await createTestSession(server.url, {
        mode,
        channel,
        agenda: [id],
        names: { a: "Sam", b: "Alex" },
      });
      const a = await Participant.join(created.links.a);
      const b = await Participant.join(created.links.b);
      open.push(a, b);
      const therapist = created.links.therapist ? await Participant.join(created.links.therapist) : null;
      if (therapist) {
        open.push(therapist);
        expect((await therapist.send({ type: "admit", partners: ["a", "b"] })).ok).toBe(true);
      }
      const choose = scriptedChoices(WALKS[id]!);
      const common = { choose, idleTimeoutMs: 8000, seed: 1234 };
      const plays = [
        playSeat(a, { ...common, startExercises: !therapist }),
        playSeat(b, common),
        ...(therapist ? [playSeat(therapist, { ...common, startExercises: true })] : []),
      ];
      await Promise.all(plays.map((p) => p.done));
      for (const p of [a, b, ...(therapist ? [therapist] : [])]) {
        await p.waitFor((v) => v.completed.length === 1);
        expect(p.view.completed.map((c) => [c.exerciseId, c.endedEarly])).toEqual([[id, false]]);
      }
      if (id === "plan-time") expect(a.view.agreements).toHaveLength(1);
      if (id === "rebuilding-trust") expect(a.view.agreements.map((x) => x.acknowledgedBy)).toEqual(["b", "a"]);
      if (id === "love-maps") expect(a.view.guesses).toHaveLength(2);
    }
  });
});

describe("npm run demo -- <id>", () => {
  it("plays a new exercise from the command line and erases its session", async () => {
    const run = promisify(execFile);
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", join(ROOT, "scripts", "demo.ts"), "plan-time", "--seed", "5"],
      {
        cwd: ROOT,
        env: { ...process.env, REDIS_URL: "", LOG_LEVEL: "silent" },
        timeout: 60_000,
      },
    );
    expect(stdout).toContain("Plan time together is complete");
    expect(stdout).toMatch(/Agreed \(offered by (Sam|Alex)\)/);
    expect(stdout).toContain("The session and its links are erased.");
  }, 70_000);

  it("names the exercises when the id is unknown", async () => {
    const run = promisify(execFile);
    const failed = await run(process.execPath, ["--import", "tsx", join(ROOT, "scripts", "demo.ts"), "no-such"], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: "", LOG_LEVEL: "silent" },
      timeout: 60_000,
    }).catch((err: { code?: number; stderr?: string }) => err);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr?: string }).stderr).toContain("love-maps");
  }, 70_000);
});
