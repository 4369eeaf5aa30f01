import type { Scenario } from "../context.ts";
export const flapScenario: Scenario = { id: "flap", title: "flap", async run() { throw new Error("todo"); } };
