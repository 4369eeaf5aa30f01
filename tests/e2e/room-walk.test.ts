/**
 * Issue 11 in Chromium, two phones at 390x844: a walk through every step of the catalogue exercises built from
 * say, choose, talk and private-answer steps, in the typed channel. On every step that answers the partner's words
 * (declared by the step's `answers`), the quote and the focused text box (or the first option) are both inside the
 * viewport; the partner who waits sees no disabled control; the time-out bar never overlaps a primary button; a
 * screenshot of each phone at each step lands in test-output/e2e/room-walk/, and the first steps and the ending are
 * also captured at 1280x800 in light and dark; the quick exit lies over nothing of the room, scrolled or not (their lines no longer than a comfortable reading measure). Axe runs on the first screens of each
 * exercise in light and dark.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import { findExercise } from "../../shared/catalogue/index.ts";
import { answeredSteps } from "../../shared/exercise-format.ts";
import {
  chromiumAvailable,
  closeCouple,
  OUTPUT_DIR,
  openCouple,
  screenshot,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { makeMove, shownStep, shownVersion, waitForVersion } from "./driver.ts";

const SUITE = "room-walk";
const runs = requireService("chromium", chromiumAvailable());
const PHONE = { width: 390, height: 844 } as const;
const LAPTOP = { width: 1280, height: 800 } as const;
const SLOW = 300_000;
/** The exercises walked here; love maps, deeper questions, plan time and rebuilding trust: room-walk-kinds.test.ts. */
const WALKED = [
  "intentional-dialogue",
  "speaker-listener",
  "appreciation",
  "weekly-check-in",
  "dreams-within-conflict",
  "repair",
  "check-in",
  "stress-reducing",
];

/** Controls shown disabled anywhere in the room (visible ones only). */
async function visibleDisabled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("main button, main input, main textarea, main select")]
      .filter((el) => (el as HTMLButtonElement).matches(":disabled") && (el as HTMLElement).getClientRects().length > 0)
      .map((el) => `${el.tagName.toLowerCase()} "${(el.textContent ?? "").trim() || (el as HTMLInputElement).name}"`),
  );
}

/** Whether the time-out bar overlaps any primary button. */
async function timeOutCoversPrimary(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const bar = document.querySelector(".timeout-bar")?.getBoundingClientRect();
    if (!bar) return false;
    return [...document.querySelectorAll(".btn.primary")].some((b) => {
      const r = b.getBoundingClientRect();
      if (r.width === 0) return false;
      return r.left < bar.right && r.right > bar.left && r.top < bar.bottom && r.bottom > bar.top;
    });
  });
}

/**
 * The same partner room on a 1280x800 laptop, light and dark: screenshots beside the phone's, and the reading
 * measure checked (no line of the room's words runs wider than a comfortable column).
 */
async function onLaptop(page: Page, folder: string, tag: string): Promise<void> {
  await page.setViewportSize(LAPTOP);
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await screenshot(page, folder, `${tag}-1280-${scheme}`);
  }
  expect(await overlongLines(page), `${tag} at 1280`).toEqual([]);
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(PHONE);
}

/** Paragraphs and list items of the room whose lines are longer than about 75 characters of their own font. */
async function overlongLines(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("main p, main li, main legend, main label")]
      .filter((el) => {
        const box = el.getBoundingClientRect();
        if (box.width === 0 || (el.textContent ?? "").trim().length < 80) return false;
        const size = Number.parseFloat(getComputedStyle(el).fontSize);
        // An average character is about half an em wide: 75 characters is about 37.5em.
        return box.width > size * 37.5;
      })
      .map(
        (el) => `${el.tagName.toLowerCase()}.${el.className || "-"} ${Math.round(el.getBoundingClientRect().width)}px`,
      ),
  );
}

/**
 * The quick exit never lies over the room, at the top, halfway down and at the foot of the page: it sits in a band
 * of its own across the top of the content column, the room starts below that band, and whatever scrolls up to it
 * goes beneath the band rather than beside the button. Returns what is wrong, for the message.
 */
async function quickExitOverRoom(page: Page, folder: string, tag: string): Promise<string[]> {
  const problems: string[] = [];
  for (const at of ["top", "middle", "foot"] as const) {
    await page.evaluate((where) => {
      const max = document.documentElement.scrollHeight - innerHeight;
      scrollTo(0, where === "top" ? 0 : where === "middle" ? max / 2 : max);
    }, at);
    const found = await page.evaluate((where) => {
      const wrong: string[] = [];
      const band = document.querySelector(".quick-exit")?.getBoundingClientRect();
      const button = document.querySelector(".quick-exit-button")?.getBoundingClientRect();
      const main = document.querySelector("main")?.getBoundingClientRect();
      if (!band || !button || !main) return ["no quick exit or no room"];
      if (button.top < 0 || button.bottom > innerHeight) wrong.push("button out of view");
      if (band.top !== 0 || band.left > main.left + 1 || band.right < main.right - 1)
        wrong.push("no band across the top");
      if (where === "top" && main.top < band.bottom - 1) wrong.push("the room starts under the band");
      // Along the band's row, beside the button, only the band (or the page's title line) is ever drawn.
      for (let x = main.left + 4; x < main.right - 4; x += 16) {
        const hit = document.elementFromPoint(x, band.top + band.height / 2);
        if (hit?.closest("main")) wrong.push(`room content beside the button at x=${Math.round(x)}`);
      }
      return wrong;
    }, at);
    problems.push(...found.map((f) => `${at}: ${f}`));
    if (at === "middle") {
      const dir = join(OUTPUT_DIR, folder);
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, `${tag}-scrolled.png`) });
    }
  }
  await page.evaluate(() => scrollTo(0, 0));
  return [...new Set(problems)];
}

async function insideViewport(page: Page, selector: string): Promise<boolean> {
  const box = await page.locator(selector).first().boundingBox();
  if (!box) return false;
  return box.y >= 0 && box.y + Math.min(box.height, 60) <= PHONE.height;
}

describe.runIf(runs)("every step of the catalogue on two phones", () => {
  let server: RunningAttune;
  let browser: Browser;

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
  });

  afterAll(async () => {
    await browser?.close();
  });

  for (const id of WALKED) {
    it(
      `${id}: the words answered in view, no disabled control for the one who waits`,
      async () => {
        const def = findExercise(id)!;
        const couple = await openCouple(browser, server.url, { agenda: [id] }, { viewport: PHONE });
        const { maya, jordan } = couple;
        const pages: Record<"a" | "b", TestPage> = { a: maya, b: jordan };
        try {
          await maya.page.getByRole("button", { name: `Start ${def.title}` }).click();
          await maya.page.locator("section.step").waitFor();
          const visits = new Map<string, number>();
          let n = 0;
          let answeredChecked = 0;
          for (let move = 0; move < 80; move++) {
            const v = Math.max(await shownVersion(maya.page), await shownVersion(jordan.page));
            await waitForVersion(maya.page, v);
            await waitForVersion(jordan.page, v);
            const steps = { a: await shownStep(maya.page), b: await shownStep(jordan.page) };
            if (!steps.a || !steps.b) break;
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
                await onLaptop(page, `${SUITE}/${id}`, tag);
              }
              if (!steps[seat]!.yourMove) {
                expect(await visibleDisabled(page), `${tag}: disabled controls for the one who waits`).toEqual([]);
              }
              expect(await timeOutCoversPrimary(page), `${tag}: time-out over a primary button`).toBe(false);
              expect(await quickExitOverRoom(page, `${SUITE}/${id}`, tag), `${tag}: quick exit`).toEqual([]);
            }
            const mover = steps.a.yourMove ? "a" : steps.b.yourMove ? "b" : null;
            if (!mover) throw new Error(`nobody's move at ${step.id}`);
            const page = pages[mover].page;
            // The words being answered: quoted with the partner's name, above the box, both in view.
            if (answeredSteps(step).length > 0 && (await page.getByTestId("answered-words").count()) > 0) {
              const quote = page.getByTestId("answered-words");
              expect(await quote.textContent()).toMatch(/^(Maya|Jordan) said:/);
              if (step.kind === "say") {
                await page.getByLabel("Your words").focus();
                expect(await insideViewport(page, "[data-testid=answered-words]"), `${step.id} quote`).toBe(true);
                expect(await insideViewport(page, "textarea:focus"), `${step.id} box`).toBe(true);
                expect(await page.evaluate(() => document.activeElement?.tagName)).toBe("TEXTAREA");
              } else {
                await page.locator("fieldset.options button").first().scrollIntoViewIfNeeded();
                expect(await insideViewport(page, "[data-testid=answered-words]"), `${step.id} quote`).toBe(true);
              }
              answeredChecked += 1;
            } else if (answeredSteps(step).length > 0 && step.id !== "responsibility-share") {
              // Only a step whose answered words are not yet said may lack a quote (a first apology).
              expect(step.id, "an answering step without its quote").toMatch(/^responsibility-share/);
            }
            const key = `${step.id}:${await page.locator("section.step").getAttribute("data-round")}`;
            const seen = visits.get(key) ?? 0;
            visits.set(key, seen + 1);
            let option: string | undefined;
            if (step.kind === "choose") {
              const labels = (step.options ?? []).map((o) => o.label).filter((l) => !/Not right now|Not yet/.test(l));
              option = seen === 0 ? labels[0] : labels.at(-1);
            }
            await makeMove(page, {
              text: `Words of ${mover === "a" ? "Maya" : "Jordan"} at ${step.id}`,
              ...(option ? { option } : {}),
            });
            if (step.actor === "both" && step.kind !== "private-answer") {
              const other = mover === "a" ? "b" : "a";
              if ((await shownStep(pages[other].page))?.yourMove)
                await makeMove(pages[other].page, { text: "Mine too" });
            } else if (step.kind === "private-answer") {
              const other = mover === "a" ? "b" : "a";
              await makeMove(pages[other].page, { answer: { rating: 7, feeling: "hopeful" } });
            }
          }
          for (const p of [maya, jordan]) await p.page.getByTestId("exercise-ended").waitFor();
          await screenshot(maya.page, `${SUITE}/${id}`, "99-ended-maya");
          await onLaptop(maya.page, `${SUITE}/${id}`, "99-ended-maya");
          if (def.steps.some((s) => answeredSteps(s).length > 0)) expect(answeredChecked).toBeGreaterThan(0);
          expect([...maya.errors, ...jordan.errors]).toEqual([]);
        } finally {
          await closeCouple(couple);
        }
      },
      SLOW,
    );
  }
});
