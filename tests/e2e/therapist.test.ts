/**
 * A therapist-led session in three browser contexts (therapist on a laptop-sized window, two partners on phones):
 * the partners wait, the therapist admits them, starts an exercise with a chosen first speaker, adjusts the timer,
 * nudges one partner, pauses and resumes, steps one partner out for a private word with the other, brings both
 * back and ends the session. Every step is checked on all three screens; screenshots go to
 * test-output/e2e/therapist/.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import {
  chromiumAvailable,
  numberedScreenshots,
  openPage,
  openPhone,
  PHONE,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { createEncryptedTestSession } from "../support/server.ts";
import { waitForVersion } from "./driver.ts";
import { GRATITUDE_MINUTE } from "../support/exercises.ts";

const SUITE = "therapist";
const runs = requireService("chromium", chromiumAvailable());
const snap = numberedScreenshots(SUITE);

/** All text in the page, visible or not (screen-reader-only text included), for privacy checks. */
async function bodyText(page: Page): Promise<string> {
  return (await page.locator("body").textContent()) ?? "";
}

describe.runIf(runs)("therapist console with two partners in three browsers", () => {
  let server: RunningAttune;
  let browser: Browser;
  let therapist: TestPage;
  let robin: TestPage;
  let kai: TestPage;
  let links: { a: string; b: string; therapist: string };

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
    // End-to-end encrypted, as a console-made session is: every word below is sealed in one browser, opened in another.
    const created = await createEncryptedTestSession(server.url, {
      mode: "therapist",
      channel: "typed",
      agenda: ["check-in", "stress-reducing"],
      names: { a: "Robin", b: "Kai" },
    });
    links = { a: created.links.a, b: created.links.b, therapist: created.links.therapist! };
    therapist = await openPage(browser, { width: 1280, height: 900 });
    robin = await openPhone(browser);
    kai = await openPhone(browser);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("partners wait in the waiting room until the therapist admits them", async () => {
    await robin.page.goto(links.a);
    await kai.page.goto(links.b);
    for (const p of [robin, kai]) {
      await p.page.getByRole("heading", { name: "You're in the waiting room" }).waitFor();
      await p.page.getByText("Your therapist will let you in shortly").waitFor();
    }
    // Nothing of the session shows: not even the other partner's name or the agenda.
    const waitingText = await bodyText(robin.page);
    expect(waitingText).not.toContain("Kai");
    expect(waitingText).not.toContain("Emotional check-in");
    await snap(robin.page, "partner-waiting");

    const t = therapist.page;
    await t.goto(links.therapist);
    await t.getByRole("heading", { name: "Therapist console" }).waitFor();
    await expect.poll(() => t.getByTestId("status-a").textContent()).toBe("waiting");
    await expect
      .poll(() => t.getByTestId("session-line").textContent())
      .toContain("Robin and Kai waiting to be admitted");
    // Controls that do not fit yet are disabled with the engine's reason beside them.
    const start = t.getByRole("button", { name: "Start exercise" });
    expect(await start.isEnabled()).toBe(true);
    expect(await t.getByRole("button", { name: "Extend 1 min" }).count()).toBe(0);
    await snap(t, "console-waiting");
    expect(await seriousAxeViolations(t)).toEqual([]);

    await t.getByRole("button", { name: "Admit Robin" }).click();
    await robin.page.getByRole("heading", { name: "Welcome. Settle in together." }).waitFor();
    expect(await kai.page.getByRole("heading", { name: "You're in the waiting room" }).count()).toBe(1);
    // Keyboard: focus the next admit button and press Enter.
    await t.getByRole("button", { name: "Admit Kai" }).focus();
    await t.keyboard.press("Enter");
    await kai.page.getByRole("heading", { name: "Welcome. Settle in together." }).waitFor();
    await expect.poll(() => t.getByTestId("status-b").textContent()).toBe("in the room");
    await snap(kai.page, "partner-admitted");
  });

  it("starts an exercise with Kai speaking first and extends the running timer", async () => {
    const t = therapist.page;
    await t.getByLabel("Exercise", { exact: true }).selectOption({ label: "Stress-reducing conversation" });
    await t.getByRole("group", { name: "Who speaks first?" }).getByRole("radio", { name: "Kai" }).check();
    await t.getByRole("button", { name: "Start exercise" }).click();
    await t.getByRole("heading", { name: "Stress-reducing conversation" }).waitFor();
    await expect.poll(() => t.getByTestId("floor").textContent()).toContain("Speaker: Kai");
    await kai.page.locator(".turn-banner").getByText("Your time to talk").waitFor();
    await robin.page.locator(".turn-banner").getByText("Kai's time to talk").waitFor();

    const timer = t.getByRole("timer");
    await expect.poll(async () => /^(10:\d\d|9:59)$/.test((await timer.textContent()) ?? "")).toBe(true);
    await t.getByRole("button", { name: "Extend 1 min" }).click();
    await expect.poll(async () => await timer.textContent()).toMatch(/^1[01]:\d\d$/);
    await expect.poll(async () => await kai.page.getByRole("timer").textContent()).toMatch(/^1[01]:\d\d$/);
    // Back one step is refused on the first step, and says why.
    expect(await t.getByRole("button", { name: "Back one step" }).isDisabled()).toBe(true);
    await t.getByText("This is the first step of the exercise.").waitFor();
    await snap(t, "console-exercise");
    await snap(kai.page, "partner-speaking");
  });

  it("nudges Robin privately; Kai never sees it", async () => {
    const t = therapist.page;
    const nudge = "Try starting with 'I feel'.";
    const panel = t.locator("section.coaching");
    await panel.getByRole("radio", { name: "Robin" }).check();
    await panel.getByLabel("Private nudge").fill(nudge);
    await panel.getByRole("button", { name: "Send nudge" }).click();
    await robin.page.getByText(nudge).waitFor();
    await snap(robin.page, "partner-nudged");
    await waitForVersion(kai.page, Number(await t.locator("[data-version]").first().getAttribute("data-version")));
    expect(await bodyText(kai.page)).not.toContain("I feel'");
  });

  it("sends a message to both into the shared conversation and keeps private notes on the console only", async () => {
    const t = therapist.page;
    const message = "Take a breath before you answer, both of you.";
    await t.locator("section.coaching").getByRole("radio", { name: "To both" }).check();
    await t.getByLabel("Message to both").fill(message);
    await t.getByRole("button", { name: "Send to both" }).click();
    for (const p of [robin, kai]) await p.page.locator(".transcript").getByText(message).waitFor();
    await t.locator(".transcript").getByText(message).waitFor();

    const note = "Kai softens when Robin slows down (private note).";
    await t.locator("section.coaching").getByRole("radio", { name: "Note" }).check();
    await t.getByLabel("New note").fill(note);
    await t.getByRole("button", { name: "Save note" }).click();
    await t.locator(".note-list").getByText(note).waitFor();
    const version = Number(await t.locator("[data-version]").first().getAttribute("data-version"));
    for (const p of [robin, kai]) {
      await waitForVersion(p.page, version);
      expect(await bodyText(p.page)).not.toContain("private note");
    }
    await snap(t, "console-coaching");
  });

  it("pauses and resumes; the partners see the pause", async () => {
    const t = therapist.page;
    await t.getByRole("button", { name: "Pause", exact: true }).click();
    await robin.page.locator(".paused-note").waitFor();
    await kai.page.locator(".paused-note").waitFor();
    await expect.poll(() => t.getByText("Timer stopped at").count()).toBe(1);
    expect(await t.getByRole("button", { name: "Skip this step" }).isDisabled()).toBe(true);
    await snap(t, "console-paused");
    await t.getByRole("button", { name: "Resume" }).click();
    await expect.poll(() => kai.page.locator(".paused-note").count()).toBe(0);
    await expect.poll(() => t.getByText("Time left").count()).toBe(1);
  });

  it("steps Robin out: Kai and the therapist talk privately, Robin sees none of it; then both come back", async () => {
    const t = therapist.page;
    await t.getByRole("button", { name: "Step Robin out" }).click();
    await robin.page.getByRole("heading", { name: "A short pause for you" }).waitFor();
    await kai.page.getByRole("heading", { name: "Just you and your therapist" }).waitFor();
    await t.getByRole("heading", { name: "Private conversation with Kai" }).waitFor();

    const question = "How are things at home this week, really?";
    await t.getByLabel("Message to Kai").fill(question);
    await t.getByRole("button", { name: "Send privately" }).click();
    await kai.page.getByText(question).waitFor();
    const answer = "Honestly, a bit tense, but safe.";
    await kai.page.getByLabel("Message to your therapist").fill(answer);
    await kai.page.locator("section.private-channel").getByRole("button", { name: "Send" }).click();
    await t.getByText(answer).waitFor();
    await snap(t, "console-private");
    await snap(kai.page, "partner-private");
    await snap(robin.page, "partner-stepped-out");
    expect(await seriousAxeViolations(kai.page)).toEqual([]);
    expect(await seriousAxeViolations(robin.page)).toEqual([]);
    const robinSees = await bodyText(robin.page);
    expect(robinSees).not.toContain(question);
    expect(robinSees).not.toContain(answer);

    await t.getByRole("button", { name: "Bring Robin back" }).click();
    await robin.page.locator(".turn-banner").getByText("Kai's time to talk").waitFor();
    await expect.poll(() => kai.page.getByRole("heading", { name: "Just you and your therapist" }).count()).toBe(0);
    await expect.poll(() => t.getByTestId("status-a").textContent()).toBe("in the room");
    // Back at the step where they left, with Kai still holding the floor.
    await kai.page.locator(".turn-banner").getByText("Your time to talk").waitFor();
    expect(await bodyText(robin.page)).not.toContain(answer);
  });

  it("gives Robin a calm “you're back” moment: a notice, an announcement, focus on the step, then dismissed", async () => {
    const r = robin.page;
    const notice = r.getByTestId("back-notice");
    await notice.getByRole("heading", { name: "You're back in the room" }).waitFor();
    await notice.getByText("You and Kai are together again").waitFor();
    // Screen readers hear it through the room's live region, followed by where the exercise stands.
    await expect.poll(() => r.getByTestId("announcer").textContent()).toMatch(/^You're back in the room\. .+/);
    expect(await r.getByTestId("announcer").textContent()).toContain("Kai's time to talk");
    // Focus lands on the step, as on a turn change.
    await expect.poll(() => r.evaluate(() => document.activeElement?.id)).toBe("step-heading");
    // Only the partner who was out gets the moment.
    expect(await kai.page.getByTestId("back-notice").count()).toBe(0);
    expect(await therapist.page.getByTestId("back-notice").count()).toBe(0);
    await snap(r, "partner-back");
    expect(await seriousAxeViolations(r)).toEqual([]);

    await notice.getByRole("button", { name: "Got it" }).click();
    await expect.poll(() => notice.count()).toBe(0);
    // The room itself is untouched by dismissing the notice.
    await r.locator(".turn-banner").getByText("Kai's time to talk").waitFor();
  });

  it("the record, built in the browser, holds the opened words and says the session is encrypted", async () => {
    const t = therapist.page;
    await t.getByRole("tab", { name: "Session record" }).click();
    const record = t.getByTestId("session-record");
    await record.getByText("Kai softens when Robin slows down (private note).").waitFor();
    await t.getByTestId("encrypted").waitFor();
    expect(await record.getByText("could not be opened").count()).toBe(0);
    await snap(t, "record-encrypted");
    await t.getByRole("tab", { name: "Live session" }).click();
  });

  it("shows each problem of a refused custom exercise, and reads well at 375 px", async () => {
    const t = therapist.page;
    // Authoring lives on its own tab, away from the live session.
    await t.getByRole("tab", { name: "Exercises" }).click();
    // A valid definition picked as a file fills the box and joins the agenda.
    await t.getByLabel("JSON file").setInputFiles({
      name: "gratitude-minute.json",
      mimeType: "application/json",
      buffer: Buffer.from(JSON.stringify(GRATITUDE_MINUTE)),
    });
    await expect.poll(() => t.getByLabel("Definition", { exact: true }).inputValue()).toContain("gratitude-minute");
    await t.getByRole("button", { name: "Add exercise" }).click();
    await t.getByText("Added “Gratitude minute” to the agenda.").waitFor();

    const bad = JSON.stringify({ id: "Bad Id", title: "x", summary: "y", colour: "blue", steps: [] });
    await t.getByLabel("Definition", { exact: true }).fill(bad);
    await t.getByRole("button", { name: "Add exercise" }).click();
    const problems = t.getByTestId("definition-problems").locator("li");
    await expect.poll(() => problems.count()).toBeGreaterThanOrEqual(3);
    const all = await problems.allTextContents();
    expect(all).toContain("colour: unknown field 'colour'");
    expect(all.some((line) => line.startsWith("id: "))).toBe(true);
    expect(all.some((line) => line.startsWith("steps: "))).toBe(true);

    await t.setViewportSize(PHONE);
    // Nothing sticks out sideways at phone width (the offenders are named when something does).
    const wide = await t.evaluate(() => {
      const limit = document.documentElement.clientWidth;
      return [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > limit + 1)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className} (${Math.round(el.getBoundingClientRect().right)}px)`);
    });
    expect(wide).toEqual([]);
    await snap(t, "console-phone");
    expect(await seriousAxeViolations(t)).toEqual([]);
    await t.setViewportSize({ width: 1280, height: 900 });
    await t.getByRole("tab", { name: "Live session" }).click();
  });

  it("ends the session for everyone", async () => {
    const t = therapist.page;
    await t.locator("section.end").getByRole("button", { name: "End session" }).click();
    await t.getByRole("button", { name: "Yes, end session" }).click();
    await t.getByRole("heading", { name: "Session ended" }).waitFor();
    for (const p of [robin, kai]) await p.page.getByRole("heading", { name: "Session complete" }).waitFor();
    await snap(t, "console-ended");
    await snap(robin.page, "partner-ended");
    for (const p of [therapist, robin, kai]) expect(p.errors).toEqual([]);
  });
});
