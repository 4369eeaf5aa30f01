/**
 * The couple's space in Chromium, with two browser contexts (Robin's phone and Sam's phone): Robin creates the
 * space from the home page; sessions are started from one space and joined from the other without copying a link;
 * both answer the closing reflection on their own screens and a session is kept only when both say yes; the chart
 * and its table show two sessions; "did it happen?" stays private until both answered; the next session's opening
 * reminds them of what they agreed; .ics, Markdown and JSON downloads parse; a wrong key says so; erase ends both
 * links. Key screens are photographed at 390x844 and 1280x800, light and dark, with axe on each.
 */
import { readFileSync } from "node:fs";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpaceClient } from "../../client/headless/space.ts";
import type { RunningAttune } from "../../server/app.ts";
import {
  chromiumAvailable,
  openPage,
  overflowingElements,
  screenshot,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { createTestSession } from "../support/server.ts";
import { makeMove, shownStep } from "./driver.ts";

const SUITE = "space";
const runs = requireService("chromium", chromiumAvailable());
const PHONE = { width: 390, height: 844 } as const;
const LAPTOP = { width: 1280, height: 800 } as const;
const SLOW = 180_000;
let shot = 0;

async function look(page: Page, name: string): Promise<void> {
  const n = String(++shot).padStart(2, "0");
  for (const size of [PHONE, LAPTOP]) {
    await page.setViewportSize(size);
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await screenshot(page, SUITE, `${n}-${name}-${size.width}x${size.height}-${scheme}`);
      expect(await seriousAxeViolations(page), `${name} ${size.width} ${scheme}`).toEqual([]);
    }
    if (size === PHONE) expect(await overflowingElements(page), name).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(PHONE);
}

async function spaceReady(page: Page): Promise<void> {
  await page.locator('[data-testid=space][data-ready="yes"]').waitFor();
}

/** Opens this tab's space again (the tab holds the link) and waits until it is decrypted. */
async function openSpace(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/space`);
  await spaceReady(page);
}

/** Starts the next session from `starter`'s space (typed); the other joins from their space. */
async function startAndJoin(starter: Page, joiner: Page, url: string): Promise<void> {
  await openSpace(starter, url);
  await starter.getByLabel("In writing").check();
  await starter.getByRole("button", { name: "Start our next session" }).click();
  await starter.getByRole("heading", { name: /Welcome/ }).waitFor();
  await openSpace(joiner, url);
  const invite = joiner.getByTestId("invite");
  await invite.waitFor();
  await invite.getByRole("link", { name: "Join the session" }).click();
  await joiner.getByRole("heading", { name: /Welcome/ }).waitFor();
}

/** Ends the session from the lobby. */
async function endSession(page: Page): Promise<void> {
  await page.getByRole("button", { name: "End session", exact: true }).click();
  await page.getByRole("button", { name: "Yes, end session" }).click();
  await page.getByTestId("summary").waitFor();
}

async function reflect(page: Page, heard: number, word: string, keep: boolean): Promise<void> {
  const form = page.getByTestId("reflect-form");
  await form.waitFor();
  await form.getByRole("radio", { name: String(heard), exact: true }).check();
  await form.getByLabel("One word for it (optional)").fill(word);
  await form.getByLabel(keep ? /Yes, keep it/ : /No, let it go/).check();
  await form.getByRole("button", { name: "Share my answer" }).click();
}

async function checkIn(robin: Page, sam: Page, ratings: [number, number]): Promise<void> {
  await robin.getByRole("button", { name: "Start Emotional check-in" }).click();
  for (const p of [robin, sam]) await expect.poll(async () => (await shownStep(p))?.kind).toBe("private-answer");
  await makeMove(robin, { answer: { rating: ratings[0], feeling: "hopeful" } });
  await makeMove(sam, { answer: { rating: ratings[1], feeling: "tired" } });
  for (const p of [robin, sam]) await p.getByRole("heading", { name: /You finished Emotional check-in/ }).waitFor();
}

async function downloaded(page: Page, button: Locator): Promise<{ name: string; text: string }> {
  const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: readFileSync(path, "utf8") };
}

/** A button by its name on the page. */
function button(page: Page, name: string): Locator {
  return page.getByRole("button", { name, exact: true });
}

describe.runIf(runs)("the couple's space on two phones", () => {
  let server: RunningAttune;
  let browser: Browser;
  let robin: TestPage;
  let sam: TestPage;
  let robinLink = "";
  let samLink = "";

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
    robin = await openPage(browser, PHONE);
    sam = await openPage(browser, PHONE);
  });

  afterAll(async () => {
    // A dead link's 401 is the point of the erase test; Chromium logs each refused request as a console error.
    const expected = /Failed to load resource: the server responded with a status of 401/;
    for (const p of [robin, sam]) expect((p?.errors ?? []).filter((e) => !expected.test(e))).toEqual([]);
    await browser?.close();
  });

  it(
    "Robin opens a space from the home page; each partner's link opens it as that partner",
    async () => {
      await robin.page.goto(server.url);
      await robin.page.getByRole("link", { name: "Open our space" }).click();
      await robin.page.getByLabel("First partner (you)").fill("Robin");
      await robin.page.getByLabel("Second partner").fill("Sam");
      await look(robin.page, "create-space");
      await robin.page.getByRole("button", { name: "Create our space" }).click();
      robinLink = await robin.page.getByLabel("Robin's link (yours)").inputValue();
      samLink = await robin.page.getByLabel("Sam's link").inputValue();
      expect(robinLink).toMatch(/\/space\/[\w-]+\.[\w-]+#[\w-]{43}$/);
      expect(samLink.split("#")[1]).toBe(robinLink.split("#")[1]);
      await look(robin.page, "space-links");
      await robin.page.getByRole("button", { name: "Open our space" }).click();
      await spaceReady(robin.page);
      // The token and key left the address bar.
      expect(new URL(robin.page.url()).pathname).toBe("/space");
      expect(robin.page.url()).not.toContain("#");

      await sam.page.goto(samLink);
      await spaceReady(sam.page);
      await sam.page.getByText("Robin & Sam").waitFor();
      expect(new URL(sam.page.url()).pathname).toBe("/space");
      await look(sam.page, "space-empty");
    },
    SLOW,
  );

  it(
    "a session started from Robin's space is joined from Sam's; both keep it and it appears in both spaces",
    async () => {
      await startAndJoin(robin.page, sam.page, server.url);
      await checkIn(robin.page, sam.page, [4, 6]);
      await endSession(robin.page);
      await sam.page.getByTestId("summary").waitFor();
      await look(sam.page, "reflection-form");
      await reflect(robin.page, 6, "listened", true);
      await robin.page.getByTestId("reflect-waiting").waitFor();
      // Sam's page holds nothing of Robin's answer before Sam answers.
      expect(await sam.page.content()).not.toContain("listened");
      await reflect(sam.page, 7, "calmer", true);
      for (const p of [robin.page, sam.page]) {
        await p.getByTestId("reflect-revealed").waitFor();
        await p.getByTestId("kept").waitFor();
      }
      await robin.page.getByText('"calmer"').waitFor();
      await look(robin.page, "kept");
      for (const p of [robin.page, sam.page]) {
        await openSpace(p, server.url);
        await expect.poll(() => p.getByTestId("kept-sessions").locator("li").count()).toBe(1);
        await p.getByTestId("last-words").getByText('"calmer"').waitFor();
      }
    },
    SLOW,
  );

  it(
    "when one partner declines, nothing is kept",
    async () => {
      await startAndJoin(sam.page, robin.page, server.url);
      await endSession(sam.page);
      await robin.page.getByTestId("summary").waitFor();
      await reflect(robin.page, 5, "okay", true);
      await reflect(sam.page, 4, "tired", false);
      for (const p of [robin.page, sam.page]) await p.getByTestId("not-kept").waitFor();
      expect(await robin.page.getByTestId("kept").count()).toBe(0);
      const check = await SpaceClient.open(robinLink);
      const raw = await check.raw();
      expect(raw.entries.filter((e) => e.kind === "session")).toHaveLength(1);
    },
    SLOW,
  );

  it(
    "after a second kept session the chart and its table show two sessions",
    async () => {
      await startAndJoin(robin.page, sam.page, server.url);
      await checkIn(robin.page, sam.page, [7, 8]);
      await endSession(sam.page);
      await robin.page.getByTestId("summary").waitFor();
      await reflect(robin.page, 8, "closer", true);
      await reflect(sam.page, 9, "warm", true);
      for (const p of [robin.page, sam.page]) await p.getByTestId("kept").waitFor();
      await openSpace(robin.page, server.url);
      const chart = robin.page.locator("svg.progress-chart");
      await expect.poll(() => chart.getAttribute("data-sessions")).toBe("2");
      // Four series (check-in and heard, per partner), each a line through two points.
      expect(await chart.locator("polyline").count()).toBe(4);
      const desc = await chart.locator("desc").textContent();
      expect(desc).toContain("Robin: check-in: 4, 7");
      expect(desc).toContain("Sam: how heard: 7, 9");
      await robin.page.getByText("Show these ratings as a table").click();
      const rows = robin.page.getByTestId("progress-table").locator("tbody tr");
      expect(await rows.count()).toBe(2);
      expect(await rows.nth(0).locator("td").allTextContents()).toEqual(["4", "6", "6", "7"]);
      expect(await rows.nth(1).locator("td").allTextContents()).toEqual(["7", "8", "8", "9"]);
      await look(robin.page, "space-two-sessions");
    },
    SLOW,
  );

  it(
    "'did it happen?' is private until both answered, and the next session's opening reminds them",
    async () => {
      // An agreement from a session kept earlier (written with the key, as a partner's browser would).
      const headless = await SpaceClient.open(robinLink);
      const when = new Date(Date.now() + 3 * 86_400_000).toISOString();
      await headless.saveSession("agreement-session", {
        date: Date.now() - 60_000,
        exercises: ["Plan time together"],
        partners: { a: { heard: 8 }, b: { heard: 8 } },
        agreements: [
          { ref: "agreement-session:12", exercise: "Plan time together", what: "Picnic by the river", when, by: "a" },
        ],
        lines: [],
        names: { a: "Robin", b: "Sam" },
      });
      await openSpace(robin.page, server.url);
      const item = robin.page.getByTestId("agreement").filter({ hasText: "Picnic by the river" });
      await item.getByRole("button", { name: "Yes", exact: true }).click();
      await item.getByText("You said: Yes. Sam hasn't answered yet.").waitFor();

      await openSpace(sam.page, server.url);
      const samItem = sam.page.getByTestId("agreement").filter({ hasText: "Picnic by the river" });
      await samItem.getByTestId("sealed").waitFor();
      expect(await sam.page.locator("body").textContent()).not.toContain("Robin said");
      await look(sam.page, "did-it-happen-sealed");
      await samItem.getByRole("button", { name: "Partly" }).click();
      await samItem.getByText("You said: Partly. Robin said: Yes.").waitFor();
      await openSpace(robin.page, server.url);
      await robin.page
        .getByTestId("agreement")
        .filter({ hasText: "Picnic by the river" })
        .getByText("You said: Yes. Sam said: Partly.")
        .waitFor();

      // The agreement's time goes to a calendar as a standard .ics file.
      const ics = await downloaded(
        robin.page,
        robin.page.getByTestId("agreement").filter({ hasText: "Picnic by the river" }).getByRole("button", {
          name: "Add to calendar",
        }),
      );
      expect(ics.name).toMatch(/\.ics$/);
      expect(ics.text.startsWith("BEGIN:VCALENDAR\r\n")).toBe(true);
      expect(ics.text.endsWith("END:VCALENDAR\r\n")).toBe(true);
      expect(ics.text.replace(/\r\n/g, "")).not.toContain("\n");
      const fields = Object.fromEntries(
        ics.text
          .split("\r\n")
          .filter(Boolean)
          .map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1)]),
      );
      expect(fields.SUMMARY).toBe("Picnic by the river");
      expect(fields.DTSTART).toBe(when.replace(/[-:]/g, "").replace(/\.\d{3}/, ""));
      expect(fields.UID).toMatch(/@attune$/);
      expect(fields.DTSTAMP).toMatch(/^\d{8}T\d{6}Z$/);

      // Started from Sam's space, joined from Robin's: the opening reminds both of what they agreed.
      await startAndJoin(sam.page, robin.page, server.url);
      for (const p of [robin.page, sam.page]) {
        await p.getByTestId("space-reminder").getByText("Picnic by the river").waitFor();
      }
      await look(robin.page, "session-reminder");
      await endSession(robin.page);
    },
    SLOW,
  );

  it(
    "exports Markdown and JSON, plans a time as .ics, and refuses a wrong key with a clear message",
    async () => {
      await openSpace(robin.page, server.url);
      await robin.page.getByLabel("What", { exact: true }).fill("Dinner, just us; no phones");
      await robin.page.getByLabel("When", { exact: true }).fill("2031-05-04T19:30");
      await robin.page.getByRole("button", { name: "Save this plan" }).click();
      await robin.page.getByText("Dinner, just us; no phones —").waitFor();
      const plan = await downloaded(
        robin.page,
        robin.page.getByRole("listitem").filter({ hasText: "Dinner, just us" }).getByRole("button", {
          name: "Add to calendar",
        }),
      );
      expect(plan.text).toContain("SUMMARY:Dinner\\, just us\\; no phones\r\n");
      expect(plan.text).toMatch(/DTSTART:2031050\dT\d{6}Z\r\n/);

      const md = await downloaded(robin.page, button(robin.page, "Download as text (Markdown)"));
      expect(md.name).toMatch(/^our-space-\d{4}-\d{2}-\d{2}\.md$/);
      expect(md.text).toMatch(/^# Our space — Robin & Sam\n/);
      expect(md.text.match(/^### Session \d/gm)).toHaveLength(3);
      expect(md.text).toContain("| Robin | 4, hopeful | — | 6 | listened |");
      expect(md.text).toContain("| Sam | 8, tired | — | 9 | warm |");
      expect(md.text).toContain("Picnic by the river");
      expect(md.text).toContain("did it happen? Robin: yes; Sam: partly");
      const json = JSON.parse((await downloaded(robin.page, button(robin.page, "Download as data (JSON)"))).text) as {
        format: string;
        sessions: unknown[];
        names: Record<string, string>;
      };
      expect(json.format).toBe("attune-space/1");
      expect(json.sessions).toHaveLength(3);
      expect(json.names).toEqual({ a: "Robin", b: "Sam" });

      // Printed, the space is a clean document: no buttons, no links panel, the sessions and the chart stay.
      await robin.page.emulateMedia({ media: "print" });
      expect(await robin.page.getByRole("button", { name: "Erase our space…" }).isVisible()).toBe(false);
      expect(await robin.page.getByRole("heading", { name: "Your links" }).isVisible()).toBe(false);
      expect(await robin.page.getByRole("heading", { name: "Sessions kept" }).isVisible()).toBe(true);
      expect(await robin.page.locator("svg.progress-chart").isVisible()).toBe(true);
      await screenshot(robin.page, SUITE, "print");
      await robin.page.emulateMedia({ media: "screen" });

      const stranger = await openPage(browser, PHONE);
      const wrongKey = `${samLink.split("#")[0]}#${"A".repeat(43)}`;
      await stranger.page.goto(wrongKey);
      const problem = stranger.page.getByTestId("space-problem");
      await problem.waitFor();
      await problem.getByText(/key does not open this space/).waitFor();
      await look(stranger.page, "wrong-key");
      await stranger.context.close();
    },
    SLOW,
  );

  it(
    "a session begun from the home page can open the space at its end: the first partner creates it, the entry is in it",
    async () => {
      const created = await createTestSession(server.url, {
        mode: "guided",
        channel: "spoken",
        agenda: ["check-in"],
        names: { a: "Kim", b: "Lee" },
      });
      const kim = await openPage(browser, PHONE);
      const lee = await openPage(browser, PHONE);
      await kim.page.goto(created.links.a);
      await lee.page.goto(created.links.b);
      for (const p of [kim.page, lee.page]) await p.getByRole("heading", { name: /Welcome/ }).waitFor();
      await endSession(kim.page);
      await lee.page.getByTestId("summary").waitFor();
      await reflect(kim.page, 7, "relieved", true);
      await reflect(lee.page, 8, "close", true);
      await lee.page.getByText("Kim can create your space from their screen").waitFor();
      await kim.page.getByTestId("create-space").click();
      const kept = kim.page.getByTestId("kept");
      await kept.waitFor();
      const leeLink = await kept.getByLabel("Lee's link").inputValue();
      const opened = await (await SpaceClient.open(leeLink)).load();
      expect(opened.you).toBe("b");
      const session = opened.entries.find((e) => e.meta.kind === "session")!.content as {
        partners: { b: { heard: number; word: string } };
      };
      expect(session.partners.b).toMatchObject({ heard: 8, word: "close" });
      await kim.page.getByRole("link", { name: "Open our space" }).click();
      await spaceReady(kim.page);
      await kim.page.getByTestId("last-words").getByText('"relieved"').waitFor();
      for (const p of [kim, lee]) {
        expect(p.errors).toEqual([]);
        await p.context.close();
      }
    },
    SLOW,
  );

  it(
    "on one device, each partner reflects in turn behind the hand-over screen, and the session is kept",
    async () => {
      const { links } = await SpaceClient.create(server.url, { a: "Ana", b: "Ben" });
      const couch = await openPage(browser, PHONE);
      await couch.page.goto(links.a);
      await spaceReady(couch.page);
      await couch.page.goto(`${server.url}/`);
      await couch.page.getByLabel("First partner", { exact: true }).fill("Ana");
      await couch.page.getByLabel("Second partner", { exact: true }).fill("Ben");
      await couch.page.getByRole("button", { name: "Create our session" }).click();
      await couch.page.getByRole("button", { name: "We're on one device — start here" }).click();
      await couch.page.getByRole("heading", { name: /Welcome/ }).waitFor();
      await endSession(couch.page);
      await reflect(couch.page, 5, "tender", true);
      await couch.page.getByTestId("handover").waitFor();
      // Ana's answer is hidden while the device passes to Ben.
      expect(await couch.page.locator("body").textContent()).not.toContain("tender");
      await couch.page.getByRole("button", { name: "I'm Ben — show my screen" }).click();
      await reflect(couch.page, 6, "steady", true);
      await couch.page.getByTestId("kept").waitFor();
      const opened = await (await SpaceClient.open(links.b)).load();
      expect(opened.entries.filter((e) => e.meta.kind === "session")).toHaveLength(1);
      expect(couch.errors).toEqual([]);
      await couch.context.close();
    },
    SLOW,
  );

  it(
    "erasing asks first, then ends the space for both: neither link opens it again",
    async () => {
      await openSpace(sam.page, server.url);
      await sam.page.getByRole("button", { name: "Erase our space…" }).click();
      await sam.page.getByRole("alertdialog").waitFor();
      await look(sam.page, "erase-confirm");
      await sam.page.getByRole("button", { name: "Yes, erase it for both of us" }).click();
      await sam.page.getByRole("heading", { name: "Your space is erased" }).waitFor();
      for (const [page, link] of [
        [robin.page, robinLink],
        [sam.page, samLink],
      ] as const) {
        await page.goto(link);
        await page
          .getByTestId("space-problem")
          .getByText(/no longer opens anything/)
          .waitFor();
      }
      await expect((await SpaceClient.open(robinLink)).raw()).rejects.toMatchObject({ code: "gone" });
    },
    SLOW,
  );
});
