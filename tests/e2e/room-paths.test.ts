/**
 * Issue 11 in Chromium, two phones at 390x844: "Not right now" leads to a time offered within the next day, seen and
 * agreed by the speaker, and the exercise ends as postponed on both phones with the agreed time in the summary; the
 * first speaker is agreed on both phones before the start (and not asked before a check-in); a partner switches off
 * their link and gets a fresh one from the room menu, the old link then says what happened; erasing from the
 * summary ends both links; incomplete and garbage links get their own pages. Axe in light and dark on each screen.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import {
  chromiumAvailable,
  openCouple,
  openPage,
  screenshot,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { shownStep, shownVersion, waitForVersion } from "./driver.ts";

const SUITE = "room-paths";
const runs = requireService("chromium", chromiumAvailable());
const PHONE = { width: 390, height: 844 } as const;
const SLOW = 180_000;
let shot = 0;

async function look(page: Page, name: string): Promise<void> {
  const n = String(++shot).padStart(2, "0");
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await screenshot(page, SUITE, `${n}-${name}-${scheme}`);
    expect(await seriousAxeViolations(page), `${name} ${scheme}`).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: "light" });
}

async function settle(a: Page, b: Page): Promise<void> {
  const v = Math.max(await shownVersion(a), await shownVersion(b));
  await waitForVersion(a, v);
  await waitForVersion(b, v);
}

describe.runIf(runs)("every path has its own ending, and the links are in people's hands", () => {
  let server: RunningAttune;
  let browser: Browser;
  const open: TestPage[] = [];

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
  });

  afterAll(async () => {
    for (const p of open) await p.context.close().catch(() => undefined);
    await browser?.close();
  });

  async function couple(
    agenda: string[],
  ): Promise<{ maya: TestPage; jordan: TestPage; links: { a: string; b: string } }> {
    return openCouple(browser, server.url, { agenda }, { viewport: PHONE, track: open });
  }

  it(
    "the first speaker is agreed on both phones, and only for exercises with a speaker",
    async () => {
      const { maya, jordan } = await couple(["check-in", "intentional-dialogue"]);
      // A check-in has nobody speaking first.
      expect(await maya.page.getByRole("group", { name: "Who speaks first?" }).count()).toBe(0);
      await maya.page.getByRole("button", { name: "Start Emotional check-in" }).click();
      for (const [p, r] of [
        [maya, 4],
        [jordan, 8],
      ] as const) {
        await p.page.locator("section.step").waitFor();
        await p.page.getByRole("radio", { name: String(r), exact: true }).check();
        await p.page.getByRole("radio", { name: "calm", exact: true }).check();
        await p.page.getByRole("button", { name: "Share privately" }).click();
      }
      for (const p of [maya, jordan]) await p.page.getByTestId("exercise-ended").waitFor();
      const mayaGroup = maya.page.getByRole("group", { name: "Who speaks first?" });
      const jordanGroup = jordan.page.getByRole("group", { name: "Who speaks first?" });
      await mayaGroup.waitFor();
      await jordanGroup.waitFor();
      expect(await mayaGroup.getByRole("radio", { name: "Maya (you)" }).isChecked()).toBe(true);
      await mayaGroup.getByRole("radio", { name: "Jordan" }).click(); // shared state: checked once the server agrees (polled below)
      await expect.poll(() => jordanGroup.getByRole("radio", { name: "Jordan (you)" }).isChecked()).toBe(true);
      await look(jordan.page, "first-speaker-agreed-jordan");
      await jordanGroup.getByRole("radio", { name: "Maya" }).click();
      await expect.poll(() => mayaGroup.getByRole("radio", { name: "Maya (you)" }).isChecked()).toBe(true);
      await mayaGroup.getByRole("radio", { name: "Jordan" }).click();
      await expect.poll(() => jordanGroup.getByRole("radio", { name: "Jordan (you)" }).isChecked()).toBe(true);
      await maya.page.getByRole("button", { name: "Start Intentional dialogue" }).click();
      await jordan.page.locator(".turn-banner .headline", { hasText: "Your turn: Invite" }).waitFor();
      await maya.page.locator(".turn-banner .headline", { hasText: "Jordan's turn: Invite" }).waitFor();
      // The partner who waits sees the step in words and no controls.
      expect(await maya.page.getByLabel("Your words").count()).toBe(0);
      await look(maya.page, "waiting-maya");
    },
    SLOW,
  );

  it(
    "'Not right now': Jordan offers a time, Maya agrees, both see the dialogue put off to that time",
    async () => {
      const { maya, jordan } = await couple(["intentional-dialogue"]);
      await maya.page.getByRole("button", { name: "Start Intentional dialogue" }).click();
      await maya.page.getByLabel("Your words").fill("I'd like to talk about the holidays.");
      await maya.page.getByRole("button", { name: "Send", exact: true }).click();
      await jordan.page.getByRole("button", { name: "Not right now" }).click();
      await jordan.page.locator("section.step[data-step-id=later]").waitFor();
      await maya.page.locator("section.step[data-step-id=later]").waitFor();
      await maya.page.locator(".prompt", { hasText: "Jordan can't listen fully right now" }).waitFor();
      const chips = jordan.page.getByRole("group", { name: "Pick a time" }).getByRole("radio");
      expect(await chips.count()).toBeGreaterThan(0);
      await look(jordan.page, "offer-time-jordan");
      await chips.first().check();
      await jordan.page.getByLabel("A detail, if it helps").fill("after the kids are in bed");
      await jordan.page.getByRole("button", { name: "Suggest this" }).click();
      await maya.page.getByTestId("agreement-offer").waitFor();
      await look(maya.page, "offer-seen-maya");
      await maya.page.getByRole("button", { name: "I agree" }).click();
      for (const p of [maya, jordan]) {
        const ended = p.page.getByTestId("exercise-ended");
        await ended.waitFor();
        expect(await ended.getAttribute("data-outcome")).toBe("postponed");
        await ended.getByRole("heading", { name: "Intentional dialogue: another time, agreed" }).waitFor();
        expect(await ended.textContent()).toContain("after the kids are in bed");
        expect(await ended.textContent()).not.toContain("felt good about how you were heard");
      }
      await look(maya.page, "postponed-maya");
      await settle(maya.page, jordan.page);
      await maya.page.getByRole("button", { name: "End session" }).click();
      await maya.page.getByRole("button", { name: "Yes, end session" }).click();
      for (const p of [maya, jordan]) {
        const summary = p.page.getByTestId("summary");
        await summary.waitFor();
        expect(await summary.textContent()).toContain("after the kids are in bed");
        expect(await summary.textContent()).not.toMatch(/Turns taken/);
      }
    },
    SLOW,
  );

  it(
    "a partner switches off their link and gets a fresh one; the old link says so; erase ends both links",
    async () => {
      const { maya, jordan, links } = await couple(["appreciation"]);
      await maya.page.locator(".room-menu > summary").click();
      await look(maya.page, "room-menu");
      await maya.page.getByRole("button", { name: "Switch off my link and get a fresh one" }).click();
      await maya.page.getByRole("button", { name: "Yes, give me a fresh link" }).click();
      const fresh = maya.page.getByTestId("fresh-link");
      await fresh.waitFor();
      const link = await fresh.getByLabel("Your new link").inputValue();
      expect(link).toMatch(/\/join\//);
      expect(link).not.toBe(links.a);
      await look(maya.page, "fresh-link");
      // The old link, opened elsewhere, says it was switched off and what to do.
      const old = await openPage(browser, PHONE);
      open.push(old);
      await old.page.goto(links.a);
      await old.page.getByRole("heading", { name: "This link is switched off" }).waitFor();
      await look(old.page, "old-link");
      // Maya is still in the room on the fresh link, and Jordan sees her here.
      await maya.page.getByRole("heading", { name: /Welcome/ }).waitFor();
      await jordan.page.locator(".presence-chip", { hasText: "Maya · here" }).waitFor();
      // Erase from the summary: both links stop working.
      await maya.page.getByRole("button", { name: "End session" }).click();
      await maya.page.getByRole("button", { name: "Yes, end session" }).click();
      await maya.page.getByTestId("summary").waitFor();
      await maya.page.getByRole("button", { name: "Erase this session now" }).click();
      const confirm = maya.page.getByTestId("erase-confirm");
      expect(await confirm.textContent()).toMatch(/24 hours after the last activity/);
      await look(maya.page, "erase-confirm");
      await confirm.getByRole("button", { name: "Yes, erase it now" }).click();
      await maya.page.getByRole("heading", { name: "The session is erased" }).waitFor();
      await jordan.page.getByRole("heading", { name: "This session is gone" }).waitFor();
      const again = await openPage(browser, PHONE);
      open.push(again);
      await again.page.goto(links.b);
      await again.page.getByRole("heading", { name: "This link doesn't open a session" }).waitFor();
      expect(await shownStep(again.page)).toBeNull();
    },
    SLOW,
  );

  it("incomplete and garbage links each get a clear page", async () => {
    const { links } = await couple(["appreciation"]);
    const p = await openPage(browser, PHONE);
    open.push(p);
    await p.page.goto(`${server.url}/join/garbage`);
    await p.page.getByRole("heading", { name: "This isn't a session link" }).waitFor();
    await look(p.page, "garbage-link");
    await p.page.goto(links.a.slice(0, -3));
    await p.page.getByRole("heading", { name: "This link is incomplete" }).waitFor();
    await p.page.goto(links.a.slice(0, links.a.lastIndexOf(".") - 4));
    await p.page.getByRole("heading", { name: "This link is incomplete" }).waitFor();
    await look(p.page, "incomplete-link");
  });
});
