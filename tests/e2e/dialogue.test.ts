/**
 * The whole path a couple takes in two browsers: create a session on the home page, open the two links in two
 * separate browser contexts, do a private check-in with its reveal, then an intentional dialogue in typed mode
 * (with one "not quite" loop), end the session and read the summary. Each page shows only what its seat may see;
 * axe finds nothing serious on home, room and summary at 375 px; a screenshot of every step lands in test-output/.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import {
  chromiumAvailable,
  numberedScreenshots,
  openPhone,
  overflowingElements,
  PHONE,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { makeMove, shownStep, shownVersion, waitForVersion } from "./driver.ts";

const SUITE = "dialogue";
const runs = requireService("chromium", chromiumAvailable());

describe.runIf(runs)("two partners in two browsers, typed channel", () => {
  let server: RunningAttune;
  let browser: Browser;
  let sam: TestPage;
  let alex: TestPage;
  let links: { a: string; b: string };
  const snap = numberedScreenshots(SUITE);

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
    sam = await openPhone(browser);
    alex = await openPhone(browser);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("creates a session on the home page and shows each partner's private link with copy and QR", async () => {
    const page = sam.page;
    await page.goto(`${server.url}/`);
    await expect.poll(() => page.getByLabel("Emotional check-in").isChecked()).toBe(true);
    expect(await page.getByLabel("Intentional dialogue").isChecked()).toBe(true);
    // Every exercise offers its one-line description.
    expect(await page.locator(".agenda-item .card-hint").count()).toBeGreaterThanOrEqual(6);
    await page.getByLabel("In writing").check();
    await page.getByLabel("Just the two of us").check();
    await page.getByLabel("First partner").fill("Sam");
    await page.getByLabel("Second partner").fill("Alex");
    await snap(page, "home");
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 320, height: 700 });
    expect(await overflowingElements(page)).toEqual([]);
    await page.setViewportSize(PHONE);

    await page.getByRole("button", { name: "Create our session" }).click();
    await page.getByRole("heading", { name: "Your session is ready" }).waitFor();
    const a = await page.getByLabel("Sam's link", { exact: true }).inputValue();
    const b = await page.getByLabel("Alex's link", { exact: true }).inputValue();
    expect(a).toMatch(/\/join\/[A-Za-z0-9_-]{21}\.[A-Za-z0-9_-]{21}\.[a-z0-9]+#k=[A-Za-z0-9_-]{43}$/);
    expect(b).toMatch(/\/join\/[A-Za-z0-9_-]{21}\.[A-Za-z0-9_-]{21}\.[a-z0-9]+#k=[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    links = { a, b };
    await expect.poll(() => page.getByText("Anyone who has a link can join as that person").count()).toBe(1);
    // The QR code is drawn as SVG, labelled for screen readers.
    await page.getByText("Show QR code").first().click();
    await page.getByRole("img", { name: "QR code for Sam's link" }).waitFor();
    await page.getByRole("button", { name: /Copy link.*Sam's link/ }).click();
    await page
      .locator(".copy-status")
      .filter({ hasText: /copied|copy it by hand/i })
      .first()
      .waitFor();
    await snap(page, "links");
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 320, height: 700 });
    expect(await overflowingElements(page)).toEqual([]);
    await page.setViewportSize(PHONE);
  });

  it("joins each seat by its link and takes the token out of the address bar", async () => {
    for (const [who, link] of [
      [sam, links.a],
      [alex, links.b],
    ] as const) {
      const response = await who.page.goto(link);
      expect(response?.headers()["referrer-policy"]).toBe("no-referrer");
      expect(response?.headers()["content-security-policy"]).toContain("script-src 'self'");
      await who.page.getByRole("heading", { name: /Welcome/ }).waitFor();
      expect(new URL(who.page.url()).pathname).toBe("/room");
      const [token, keys] = link.split("/").pop()!.split("#") as [string, string];
      expect(who.page.url()).not.toContain(token);
      // The session is end-to-end encrypted: its key leaves the address bar too, kept in this tab only.
      expect(who.page.url()).not.toContain(keys);
      const stored = await who.page.evaluate(() => JSON.stringify(sessionStorage));
      expect(stored).toContain(token);
      expect(stored).toContain(keys);
    }
    await sam.page.getByText("Alex · here").waitFor();
    await alex.page.getByText("Alex (you) · here").waitFor();
    await snap(sam.page, "lobby-sam");
  });

  it("runs a private check-in: nothing of an answer shows until both answered, then both see both", async () => {
    await sam.page.getByRole("button", { name: "Start Emotional check-in" }).click();
    await sam.page.locator(".turn-banner .headline", { hasText: "Both of you: How are you right now?" }).waitFor();
    await alex.page.locator(".turn-banner .headline", { hasText: "Both of you: How are you right now?" }).waitFor();
    await snap(alex.page, "check-in-alex");
    expect(await seriousAxeViolations(alex.page)).toEqual([]);
    // The rating and feeling chips wrap instead of pushing the page sideways on a narrow phone.
    await alex.page.setViewportSize({ width: 320, height: 700 });
    expect(await overflowingElements(alex.page)).toEqual([]);
    await alex.page.setViewportSize(PHONE);

    const v = await makeMove(sam.page, { answer: { rating: 7, feeling: "hopeful", note: "Sam-private-note-41" } });
    await waitForVersion(alex.page, v);
    await alex.page.getByText("Sam has answered.").waitFor();
    // Alex's page holds nothing of Sam's answer: not the note, not the rating choice.
    expect(await alex.page.content()).not.toContain("Sam-private-note-41");
    expect(await alex.page.locator("[data-testid=check-in-reveal]").count()).toBe(0);
    await sam.page.getByText("You answered:").waitFor();
    await snap(sam.page, "check-in-sam-answered");

    const w = await makeMove(alex.page, { answer: { rating: 4, feeling: "tired", note: "Alex-private-note-17" } });
    await waitForVersion(sam.page, w);
    for (const page of [sam.page, alex.page]) {
      const reveal = page.locator("[data-testid=check-in-reveal]");
      await reveal.waitFor();
      const text = await reveal.textContent();
      expect(text).toContain("Sam-private-note-41");
      expect(text).toContain("Alex-private-note-17");
      expect(text).toContain("hopeful");
      expect(text).toContain("tired");
    }
    await snap(alex.page, "check-in-reveal");
  });

  it("completes an intentional dialogue in typed mode, each seat seeing its role and controls", async () => {
    await sam.page.getByRole("button", { name: "Start Intentional dialogue" }).click();
    await sam.page.locator("section.step[data-step-id=invite]").waitFor();
    await alex.page.locator("section.step[data-step-id=invite]").waitFor();

    // Who acts at a glance; the listener waits calmly, with no controls they could not use.
    await sam.page.locator(".turn-banner .headline", { hasText: "Your turn: Invite" }).waitFor();
    await alex.page.locator(".turn-banner .headline", { hasText: "Sam's turn: Invite" }).waitFor();
    expect(await alex.page.getByLabel(/Your words/).count()).toBe(0);
    await alex.page.locator(".prompt", { hasText: "Sam is naming what they would like to talk about." }).waitFor();
    // Focus sits on the step heading so keyboard users start there, and the turn is announced.
    expect(await sam.page.evaluate(() => document.activeElement?.id)).toBe("step-heading");
    expect(await alex.page.evaluate(() => document.activeElement?.id)).toBe("step-heading");
    await alex.page
      .getByTestId("announcer")
      .filter({ hasText: "Sam's turn: Invite. Sam is naming what they would like to talk about." })
      .waitFor();
    // Readable at the narrowest phones: nothing needs sideways scrolling at 320 px.
    await alex.page.setViewportSize({ width: 320, height: 700 });
    expect(await overflowingElements(alex.page)).toEqual([]);
    await alex.page.setViewportSize(PHONE);
    expect(await seriousAxeViolations(alex.page)).toEqual([]);

    const said: string[] = [];
    let checkVisits = 0;
    let moves = 0;
    while (moves++ < 80) {
      if ((await sam.page.locator("[data-testid=exercise-ended]").count()) > 0) break;
      const samStep = await shownStep(sam.page);
      const alexStep = await shownStep(alex.page);
      if (!samStep || !alexStep) throw new Error("the step vanished before the exercise ended");
      expect(alexStep.id).toBe(samStep.id);
      // Exactly one of the two may act on every step of a dialogue.
      expect(samStep.yourMove !== alexStep.yourMove).toBe(true);
      const [mover, other, name] = samStep.yourMove ? [sam, alex, "sam"] : [alex, sam, "alex"];
      await snap(mover.page, `dialogue-${samStep.id}-${name}`);
      let option: string | undefined;
      if (samStep.id === "check") option = ++checkVisits === 1 ? "Not quite" : "Yes, you got it";
      const text = `${name} at ${samStep.id}, move ${moves}`;
      if (samStep.kind === "say") said.push(text);
      const v = await makeMove(mover.page, { text, ...(option ? { option } : {}) });
      await waitForVersion(other.page, v);
    }
    // Round one: "not quite", then "yes"; round two: "yes" straight away.
    expect(checkVisits).toBe(3);
    for (const page of [sam.page, alex.page]) {
      await page.locator("[data-testid=exercise-ended]").getByText("You finished Intentional dialogue").waitFor();
    }
    // Both cycles ran: each partner spoke and listened.
    expect(said.some((t) => t.startsWith("sam at send"))).toBe(true);
    expect(said.some((t) => t.startsWith("alex at send"))).toBe(true);
    await snap(sam.page, "dialogue-ended");
  });

  it("ends the session and shows both a short summary", async () => {
    await sam.page.getByRole("button", { name: "End session" }).click();
    await sam.page.getByRole("button", { name: "Yes, end session" }).click();
    for (const page of [sam.page, alex.page]) {
      const summary = page.locator("[data-testid=summary]");
      await summary.getByRole("heading", { name: "Session complete" }).waitFor();
      const text = await summary.textContent();
      expect(text).toContain("Emotional check-in");
      expect(text).toContain("Intentional dialogue");
      expect(text).toContain("Sam-private-note-41");
    }
    await snap(alex.page, "summary");
    expect(await seriousAxeViolations(alex.page)).toEqual([]);
    await alex.page.setViewportSize({ width: 320, height: 700 });
    expect(await overflowingElements(alex.page)).toEqual([]);
    expect(await shownVersion(alex.page)).toBeGreaterThan(0);
    // No script error and no CSP violation on either page during the whole session.
    expect(sam.errors).toEqual([]);
    expect(alex.errors).toEqual([]);
  });
});
