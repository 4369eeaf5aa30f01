/**
 * Drives the room page the way a person would (labels, roles and button names), reading only a few data-*
 * markers the room renders (data-version, data-step-id, data-step-kind, data-your-move) to know when the page
 * has caught up with the server.
 */
import type { Page } from "playwright-core";
import { expect } from "vitest";

const WAIT_MS = 10_000;

/** The session version the page currently shows (-1 before the first view). */
export async function shownVersion(page: Page): Promise<number> {
  const value = await page.locator("[data-version]").first().getAttribute("data-version", { timeout: WAIT_MS });
  return value === null ? -1 : Number(value);
}

/** Waits until the page shows at least version `v`. */
export async function waitForVersion(page: Page, v: number): Promise<void> {
  await page.waitForFunction(
    (min) => {
      const el = document.querySelector("[data-version]");
      return el !== null && Number(el.getAttribute("data-version")) >= min;
    },
    v,
    { timeout: WAIT_MS },
  );
}

export interface StepInfo {
  id: string;
  kind: string;
  yourMove: boolean;
}

/** The step the page shows, or null when no exercise step is on screen. */
export async function shownStep(page: Page): Promise<StepInfo | null> {
  const step = page.locator("section.step");
  if ((await step.count()) === 0) return null;
  return {
    id: (await step.getAttribute("data-step-id")) ?? "",
    kind: (await step.getAttribute("data-step-kind")) ?? "",
    yourMove: (await step.getAttribute("data-your-move")) === "true",
  };
}

export interface MoveOptions {
  /** Text for a typed "say" step. */
  text?: string;
  /** Label of the option to pick on a "choose" step (default: the first one). */
  option?: string;
  /** A private answer. */
  answer?: { rating: number; feeling: string; note?: string };
}

/** Makes this page's move on the current step through the visible controls; returns the page's new version. */
export async function makeMove(page: Page, opts: MoveOptions = {}): Promise<number> {
  const before = await shownVersion(page);
  const step = await shownStep(page);
  if (!step?.yourMove) throw new Error(`not this page's move (step ${step?.id ?? "none"})`);
  const panel = page.locator("section.step");
  if (step.kind === "say") {
    const done = panel.getByRole("button", { name: "Done", exact: true });
    if ((await done.count()) > 0) {
      await done.click();
    } else {
      await panel.getByLabel("Your words").fill(opts.text ?? `Words for ${step.id}`);
      await panel.getByRole("button", { name: "Send", exact: true }).click();
    }
  } else if (step.kind === "choose") {
    const buttons = panel.locator("fieldset.options button");
    const target = opts.option ? panel.getByRole("button", { name: opts.option, exact: true }) : buttons.first();
    await target.click();
  } else if (step.kind === "private-answer") {
    const answer = opts.answer ?? { rating: 6, feeling: "calm" };
    await panel.getByRole("radio", { name: String(answer.rating), exact: true }).check();
    await panel.getByRole("radio", { name: answer.feeling, exact: true }).check();
    if (answer.note) await panel.getByLabel("A sentence, if you like (optional)").fill(answer.note);
    await panel.getByRole("button", { name: "Share privately" }).click();
  } else if (step.kind === "talk") {
    await panel.getByRole("button", { name: "I've finished my turn" }).click();
  } else {
    throw new Error(`unknown step kind ${step.kind}`);
  }
  await waitForVersion(page, before + 1);
  return shownVersion(page);
}

/** Asserts the page shows no error from the server for the last action. */
export async function expectNoActionError(page: Page): Promise<void> {
  expect(await page.locator(".action-error").count()).toBe(0);
}

/** Waits until the page shows step `id` (with the page's move or not). */
export async function atStep(page: Page, id: string): Promise<void> {
  await page.locator(`section.step[data-step-id="${id}"]`).waitFor();
}

/** Clicks, then waits for the page to move on by at least one version. */
export async function clickAndWait(page: Page, name: string | RegExp): Promise<void> {
  const before = await shownVersion(page);
  await page.getByRole("button", { name, exact: typeof name === "string" }).click();
  await waitForVersion(page, before + 1);
}

/** A datetime-local value (local time) `hours` from now, on the minute. */
export function localIn(hours: number): string {
  const d = new Date(Date.now() + hours * 3_600_000);
  const pad = (x: number) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
