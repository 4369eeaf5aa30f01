import type { Scenario } from "../context.ts";
export const raceScenario: Scenario = { id: "race", title: "race", async run() { throw new Error("todo"); } };
