/**
 * Sessions without timers (WCAG 2.2 SC 2.2.1) in Chromium: the home page's "No timers" checkbox creates a session
 * whose timed turns show no countdown and no "more minutes" button on either phone; the same exercise in a session
 * with timers shows its clock. The exercise's intro speaks of timed turns only in the session with timers. Screenshots land in test-output/e2e/untimed/.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import {
  chromiumAvailable,
  coupleAt,
  openPage,
  screenshot,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { createTestSession } from "../support/server.ts";

const SUITE = "untimed";
const runs = requireService("chromium", chromiumAvailable());
const PHONE = { width: 390, height: 844 } as const;
const DESKTOP = { width: 1280, height: 800 } as const;
const TITLE = "Stress-reducing conversation";

describe.runIf(runs)("a session without timers", () => {
  let server: RunningAttune;
  let browser: Browser;
  const opened: TestPage[] = [];

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
  });

  afterAll(async () => {
    for (const p of opened) await p.context.close();
    await browser?.close();
  });

  async function phone(): Promise<TestPage> {
    const p = await openPage(browser, PHONE);
    opened.push(p);
    return p;
  }

  /** Both partners in the lobby, then the first starts the stress-reducing conversation. */
  async function startTalk(links: { a: string; b: string }): Promise<[TestPage, TestPage]> {
    const { maya, jordan } = await coupleAt(browser, links, { viewport: PHONE, track: opened });
    await maya.page.getByRole("button", { name: `Start ${TITLE}` }).click();
    for (const p of [maya, jordan]) await p.page.locator("section.step[data-step-kind=talk]").waitFor();
    return [maya, jordan];
  }

  it("the home page offers it as a plain checkbox, and the session it creates shows no countdown", async () => {
    const home = await phone();
    const page = home.page;
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.getByLabel("Emotional check-in").isChecked()).toBe(true);
    await page.getByLabel("Emotional check-in").uncheck();
    await page.getByLabel("Intentional dialogue").uncheck();
    await page.getByLabel(TITLE).check();
    const box = page.getByRole("checkbox", { name: /No timers — take the time you need/ });
    expect(await box.isChecked()).toBe(false);
    // The exercise list describes each exercise as the session will run it: timed turns only while timers are on.
    const stressHint = page.locator("label.agenda-item", { hasText: TITLE }).locator(".card-hint");
    expect(await stressHint.textContent()).toMatch(/ten minutes/);
    await box.check();
    expect(await box.isChecked()).toBe(true);
    await expect.poll(() => stressHint.textContent()).toMatch(/takes a turn/);
    expect(await stressHint.textContent()).not.toMatch(/minute/);
    await box.uncheck();
    await expect.poll(() => stressHint.textContent()).toMatch(/ten minutes/);
    await box.check();
    await page.getByLabel("First partner").fill("Maya");
    await page.getByLabel("Second partner").fill("Jordan");
    await box.scrollIntoViewIfNeeded();
    for (const [size, viewport] of [
      ["phone", PHONE],
      ["desktop", DESKTOP],
    ] as const) {
      await page.setViewportSize(viewport);
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await box.scrollIntoViewIfNeeded();
        await screenshot(page, SUITE, `home-no-timers-${size}-${scheme}`);
        expect(await seriousAxeViolations(page), `${size} ${scheme}`).toEqual([]);
      }
    }
    await page.setViewportSize(PHONE);
    await page.emulateMedia({ colorScheme: "light" });

    // The request carries the option as the protocol names it.
    const sent = page.waitForRequest((r) => r.url().endsWith("/api/sessions") && r.method() === "POST");
    await page.getByRole("button", { name: "Create our session" }).click();
    expect((await sent).postDataJSON()).toMatchObject({ agenda: ["stress-reducing"], timers: false });
    await page.getByRole("heading", { name: "Your session is ready" }).waitFor();
    const links = {
      a: await page.getByLabel("Maya's link", { exact: true }).inputValue(),
      b: await page.getByLabel("Jordan's link", { exact: true }).inputValue(),
    };

    const [maya, jordan] = await startTalk(links);
    // Give a clock time to tick if there were one.
    await maya.page.waitForTimeout(1200);
    for (const [who, p] of [
      ["maya", maya],
      ["jordan", jordan],
    ] as const) {
      expect(await p.page.locator("[role=timer], .countdown").count(), who).toBe(0);
      expect(await p.page.getByRole("button", { name: /more minutes/ }).count(), who).toBe(0);
      expect(await p.page.getByRole("button", { name: /Time's up/ }).count(), who).toBe(0);
      await p.page.getByText("No timer here — take the time you need.").waitFor();
      // The exercise's intro follows the session: no timed turns promised.
      await p.page.getByText(`About ${TITLE}`).click();
      const intro = (await p.page.locator("details.intro p").textContent()) ?? "";
      expect(intro, who).toContain("for as long as you need");
      expect(intro, who).not.toMatch(/\btime[dr]\b|minutes/i);
      await screenshot(p.page, SUITE, `talk-no-timer-${who}`);
    }
    // The talker moves on when they are ready.
    await maya.page.getByRole("button", { name: "I've finished my turn" }).click();
    await jordan.page.locator("section.step[data-your-move=true][data-step-kind=talk]").waitFor();
    expect(await jordan.page.locator("[role=timer], .countdown").count()).toBe(0);
    await screenshot(jordan.page, SUITE, "talk-no-timer-jordan-turn");
    expect([...home.errors, ...maya.errors, ...jordan.errors]).toEqual([]);
  }, 120_000);

  it("the same exercise with timers shows its clock (the check above could fail)", async () => {
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["stress-reducing"],
      names: { a: "Maya", b: "Jordan" },
    });
    const [maya, jordan] = await startTalk(created.links);
    for (const p of [maya, jordan]) {
      await p.page.locator("[role=timer]").waitFor();
      expect(await p.page.locator("[role=timer]").textContent()).toMatch(/^(10:00|9:5\d)$/);
      await p.page.getByText(`About ${TITLE}`).click();
      expect(await p.page.locator("details.intro p").textContent()).toContain("Each of you gets a timed turn");
    }
    await screenshot(maya.page, SUITE, "talk-with-timer-maya");
  }, 120_000);
});
