/** What every chaos scenario is handed, and what it is. */
import type { Report } from "./report.ts";

export interface ChaosContext {
  /** Shorter phases and fewer couples (a smoke run of the harness itself). */
  quick: boolean;
  /** Seed of every random choice (fast-check and the mixes), printed so a run can be replayed. */
  seed: number;
  /** Inputs of the fuzz scenario, raw frames and command envelopes together. */
  fuzzInputs: number;
  log(message: string): void;
}

export interface Scenario {
  id: string;
  title: string;
  run(ctx: ChaosContext, report: Report): Promise<void>;
}

/** A unique key prefix per run, so a chaos run never touches another deployment's keys. */
export function chaosPrefix(tag: string): string {
  return `attune-chaos:${tag}:${Date.now().toString(36)}:`;
}
