import type { Scenario } from "../context.ts";
export const fuzzScenario: Scenario = { id: "fuzz", title: "fuzz", async run() { throw new Error("todo"); } };
