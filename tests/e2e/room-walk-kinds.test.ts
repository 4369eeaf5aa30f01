/**
 * The rest of the catalogue walked on two phones at 390x844, in the typed channel, like room-walk.test.ts: Love maps,
 * Deeper questions (all three sets) and Plan time together in guided sessions, and Rebuilding trust in a therapist
 * session (the therapist's moves are sent through the headless participant; the partners use their phones). On every
 * step both phones are photographed into test-output/e2e/room-walk-kinds/<exercise>/; on every step that answers the
 * partner's words, the quote and the focused text box are both inside the viewport; the partner who waits never sees
 * a disabled control. Axe runs on the first screens of each exercise in light and dark.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import type { RunningAttune } from "../../server/app.ts";
import { findExercise } from "../../shared/catalogue/index.ts";
import { answeredSteps } from "../../shared/exercise-format.ts";
import {
  chromiumAvailable,
  closeCouple,
  openCouple,
  screenshot,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { makeMove, type StepInfo, shownStep, shownVersion, waitForVersion } from "./driver.ts";

const SUITE = "room-walk-kinds";
const runs = requireService("chromium", chromiumAvailable());
const PHONE = { width: 390, height: 844 } as const;
const SLOW = 300_000;

/** The choice made at a choose step on its first visit and on later ones (labels as the exercise gives them). */
const CHOICES: Record<string, [string, string]> = {
  again: ["Another question, we swap", "That's enough for today"],
  "next-1": ["Another question", "On to set 2"],
  "next-2": ["On to set 3", "On to set 3"],
  "next-3": ["Another question", "Let's finish here"],
  more: ["I have another question", "That's enough questions for now"],
  "reflect-check": ["Not quite", "Yes, they understood"],
  next: ["Close for today", "Close for today"],
};

/** Controls shown disabled anywhere in the room (visible ones only). */
async function visibleDisabled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("main button, main input, main textarea, main select")]
      .filter((el) => (el as HTMLButtonElement).matches(":disabled") && (el as HTMLElement).getClientRects().length > 0)
      .map((el) => `${el.tagName.toLowerCase()} "${(el.textContent ?? "").trim() || (el as HTMLInputElement).name}"`),
  );
}

async function insideViewport(page: Page, selector: string): Promise<boolean> {
  const box = await page.locator(selector).first().boundingBox();
  if (!box) return false;
  return box.y >= 0 && box.y + Math.min(box.height, 60) <= PHONE.height;
}

/** A datetime-local value (local time) `hours` from now, on the minute. */
function localIn(hours: number): string {
  const d = new Date(Date.now() + hours * 3_600_000);
  const pad = (x: number) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** This page's move on a guess, pick, agreement or ideas step through its visible controls; others go to makeMove. */
async function moveOn(page: Page, step: StepInfo, text: string, option?: string): Promise<void> {
  const before = await shownVersion(page);
  const panel = page.locator("section.step");
  if (step.kind === "guess") {
    const marks = panel.locator("fieldset.marks button");
    if ((await marks.count()) > 0) await marks.first().click();
    else {
      await panel.getByRole("textbox").first().fill(text);
      await panel.getByRole("button", { name: /^Lock in my (answer|guess)$/ }).click();
    }
  } else if (step.kind === "pick") {
    await panel.locator(".idea-button").first().click();
  } else if (step.kind === "agreement") {
    const agree = panel.getByRole("button", { name: /^(Agree|I agree)$/ });
    if ((await agree.count()) > 0) await agree.click();
    else {
      const when = panel.getByLabel("Day and time", { exact: true });
      if ((await when.count()) > 0) await when.fill(localIn(26));
      const what = panel.getByLabel("In a few words", { exact: true });
      if ((await what.count()) > 0) await what.fill(text);
      await panel.getByRole("button", { name: /^(Suggest this|Keep this)$/ }).click();
    }
  } else if (step.kind === "private-answer" && (await panel.getByLabel("Idea 1").count()) > 0) {
    await panel.getByLabel("Idea 1").fill(`${text} (an idea)`);
    await panel.getByRole("button", { name: "Share privately" }).click();
  } else {
    await makeMove(page, { text, ...(option ? { option } : {}), answer: { rating: 7, feeling: "hopeful" } });
    return;
  }
  await waitForVersion(page, before + 1);
}

describe.runIf(runs)("the rest of the catalogue on two phones", () => {
  let server: RunningAttune;
  let browser: Browser;

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
  });

  afterAll(async () => {
    await browser?.close();
  });

  const WALKS = [
    { id: "love-maps", mode: "guided" },
    { id: "deeper-questions", mode: "guided" },
    { id: "plan-time", mode: "guided" },
    { id: "rebuilding-trust", mode: "therapist" },
  ] as const;

  for (const { id, mode } of WALKS) {
    it(
      `${id} (${mode}): the words answered in view, no disabled control for the one who waits`,
      async () => {
        const def = findExercise(id)!;
        const couple = await openCouple(browser, server.url, { mode, agenda: [id] }, { viewport: PHONE });
        const { maya, jordan, links } = couple;
        const pages: Record<"a" | "b", TestPage> = { a: maya, b: jordan };
        let therapist: Participant | null = null;
        try {
          if (mode === "therapist") {
            therapist = await Participant.join(links.therapist!);
            await therapist.send({ type: "admit", partners: ["a", "b"] });
            const started = await therapist.send({ type: "start-exercise", exerciseId: id, firstSpeaker: "a" });
            if (!started.ok) throw new Error(`start refused: ${started.error.code}`);
          } else {
            await maya.page.getByRole("button", { name: `Start ${def.title}` }).click();
          }
          for (const p of [maya, jordan]) await p.page.locator("section.step").waitFor();
          const visits = new Map<string, number>();
          let n = 0;
          let answeredChecked = 0;
          for (let move = 0; move < 80; move++) {
            const v = Math.max(await shownVersion(maya.page), await shownVersion(jordan.page));
            await waitForVersion(maya.page, v);
            await waitForVersion(jordan.page, v);
            const steps = { a: await shownStep(maya.page), b: await shownStep(jordan.page) };
            if (!steps.a || !steps.b) break;
            expect(steps.b.id).toBe(steps.a.id);
            const step = def.steps.find((s) => s.id === steps.a!.id)!;
            n += 1;
            for (const seat of ["a", "b"] as const) {
              const page = pages[seat].page;
              const tag = `${String(n).padStart(2, "0")}-${step.id}-${seat === "a" ? "maya" : "jordan"}`;
              await screenshot(page, `${SUITE}/${id}`, tag);
              if (n <= 2) {
                for (const scheme of ["dark", "light"] as const) {
                  await page.emulateMedia({ colorScheme: scheme });
                  expect(await seriousAxeViolations(page), `${tag} ${scheme}`).toEqual([]);
                }
              }
              if (!steps[seat]!.yourMove) {
                expect(await visibleDisabled(page), `${tag}: disabled controls for the one who waits`).toEqual([]);
              }
            }
            // Choices go by visits to the step, whatever the round: the first visit loops once, a later one moves on.
            const seen = visits.get(step.id) ?? 0;
            visits.set(step.id, seen + 1);
            const choice = CHOICES[step.id]?.[seen === 0 ? 0 : 1];

            const mover = steps.a.yourMove ? "a" : steps.b.yourMove ? "b" : null;
            if (!mover) {
              // Nobody on a phone acts: the therapist's step.
              if (!therapist) throw new Error(`nobody's move at ${step.id}`);
              await therapist.waitForVersion(v);
              expect(therapist.view.exercise?.step.yourMove, `the therapist acts at ${step.id}`).toBe(true);
              const option = step.options?.find((o) => o.label === choice)?.id;
              const ack = await therapist.send(
                step.kind === "choose" ? { type: "choose", option: option! } : { type: "say", text: "Therapist words" },
              );
              if (!ack.ok) throw new Error(`therapist ${step.id}: ${ack.error.code}`);
              await waitForVersion(maya.page, ack.version);
              continue;
            }
            const page = pages[mover].page;
            const name = mover === "a" ? "Maya" : "Jordan";
            // The words being answered: quoted with the partner's name, above the box, both in view.
            if (answeredSteps(step).length > 0 && step.kind === "say") {
              const quote = page.getByTestId("answered-words");
              expect(await quote.count(), `${step.id}: the quote of the words answered`).toBeGreaterThan(0);
              expect(await quote.textContent()).toMatch(/^(Maya|Jordan) said:/);
              await page.getByLabel("Your words").focus();
              expect(await insideViewport(page, "[data-testid=answered-words]"), `${step.id} quote`).toBe(true);
              expect(await insideViewport(page, "textarea:focus"), `${step.id} box`).toBe(true);
              expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("TEXTAREA");
              answeredChecked += 1;
            } else if (answeredSteps(step).length > 0 && (await page.getByTestId("answered-words").count()) > 0) {
              const quote = page.getByTestId("answered-words");
              expect(await quote.textContent()).toMatch(/^(Maya|Jordan) said:/);
              await page.locator("section.step button").first().scrollIntoViewIfNeeded();
              expect(await insideViewport(page, "[data-testid=answered-words]"), `${step.id} quote`).toBe(true);
              answeredChecked += 1;
            }
            await moveOn(page, steps[mover]!, `Words of ${name} at ${step.id}`, choice);
          }
          for (const p of [maya, jordan]) await p.page.getByTestId("exercise-ended").waitFor();
          await screenshot(maya.page, `${SUITE}/${id}`, "99-ended-maya");
          await screenshot(jordan.page, `${SUITE}/${id}`, "99-ended-jordan");
          if (def.steps.some((s) => answeredSteps(s).length > 0)) expect(answeredChecked).toBeGreaterThan(0);
          // Every step of the exercise was on screen at least once.
          const shown = new Set(visits.keys());
          expect(def.steps.map((s) => s.id).filter((s) => !shown.has(s))).toEqual([]);
          expect([...maya.errors, ...jordan.errors]).toEqual([]);
        } finally {
          therapist?.close();
          await closeCouple(couple);
        }
      },
      SLOW,
    );
  }
});
