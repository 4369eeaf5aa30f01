/**
 * The guess, pick and agreement steps in Chromium, as a couple uses them on two phones: Love maps (a drawn
 * question, an answer and a guess side by side once both are in, a gentle mark), Plan time together (ideas written
 * alone, one picked together, a time offered with a native date-time input, countered and agreed, then listed in
 * the summary), and an uploaded therapist-led exercise in the spoken channel (guesses held in mind, pick-one
 * guesses, a promise offered by one partner and acknowledged by the other) with the therapist's console watching.
 * Until a reveal, neither the other partner's page nor the therapist's holds a word of a guess or an idea.
 * Each screen is photographed at 390x844 and 1280x800, light and dark, and checked with axe in each.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
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
import { DATE_NIGHT } from "../support/exercises.ts";
import { createTestSession } from "../support/server.ts";
import { atStep, clickAndWait, localIn, shownStep, shownVersion, waitForVersion } from "./driver.ts";

const SUITE = "kinds";
const runs = requireService("chromium", chromiumAvailable());
const PHONE = { width: 390, height: 844 } as const;
const LAPTOP = { width: 1280, height: 800 } as const;
/** Each test photographs every screen four times and runs axe on each: give it room on a busy machine. */
const SLOW = 180_000;
let shot = 0;
/** The screenshot folder of the suite now running (test-output/e2e/<folder>/). */
let folder = SUITE;

/** All text in the page, visible or not, for privacy checks. */
async function bodyText(page: Page): Promise<string> {
  return (await page.locator("body").textContent()) ?? "";
}

/**
 * Photographs the page at both sizes in light and dark, with axe run in each; then puts it back as it was (phone or
 * laptop size, light). Nothing may stick out sideways at phone size.
 */
async function look(page: Page, name: string, home: { width: number; height: number } = PHONE): Promise<void> {
  const n = String(++shot).padStart(2, "0");
  for (const size of [PHONE, LAPTOP]) {
    await page.setViewportSize(size);
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await screenshot(page, folder, `${n}-${name}-${size.width}x${size.height}-${scheme}`);
      expect(await seriousAxeViolations(page), `${name} ${size.width} ${scheme}`).toEqual([]);
    }
    if (size === PHONE) expect(await overflowingElements(page), name).toEqual([]);
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize(home);
}

describe.runIf(runs)("guess, pick and agreement steps on two phones", () => {
  let server: RunningAttune;
  let browser: Browser;
  let sam: TestPage;
  let alex: TestPage;

  beforeAll(async () => {
    folder = SUITE;
    ({ server, browser } = await startBrowserSuite(folder));
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["love-maps", "plan-time"],
      names: { a: "Sam", b: "Alex" },
    });
    sam = await openPage(browser, PHONE);
    alex = await openPage(browser, PHONE);
    await sam.page.goto(created.links.a);
    await alex.page.goto(created.links.b);
    for (const p of [sam, alex]) await p.page.getByRole("heading", { name: /Welcome/ }).waitFor();
  });

  afterAll(async () => {
    for (const p of [sam, alex]) expect(p?.errors ?? []).toEqual([]);
    await browser?.close();
  });

  it(
    "love maps: a drawn question, an answer and a guess kept apart, then side by side",
    async () => {
      await sam.page.getByRole("button", { name: "Start Love maps" }).click();
      for (const p of [sam, alex]) await atStep(p.page, "guess");
      const question = await sam.page.getByTestId("question").locator(".question-text").textContent();
      expect(question?.length).toBeGreaterThan(10);
      expect(await alex.page.getByTestId("question").locator(".question-text").textContent()).toBe(question);
      await look(alex.page, "love-maps-guessing");

      // Sam (first speaker) answers about himself; Alex guesses.
      const answer = "A long walk to the harbour, then pancakes";
      await sam.page.getByLabel("Your answer, about you").fill(answer);
      await clickAndWait(sam.page, "Lock in my answer");
      await sam.page.locator(".turn-banner", { hasText: "Waiting for Alex" }).waitFor();
      await waitForVersion(alex.page, await shownVersion(sam.page));
      expect(await bodyText(alex.page)).not.toContain("harbour");
      await look(sam.page, "love-maps-answer-locked");

      await alex.page.getByLabel("Your guess: what will Sam say?").fill("Sleeping in and a film");
      await clickAndWait(alex.page, "Lock in my guess");
      for (const p of [sam, alex]) {
        const reveal = p.page.getByTestId("guess-reveal");
        await reveal.waitFor();
        await reveal.getByText(answer).waitFor();
        await reveal.getByText("Sleeping in and a film").waitFor();
      }
      await sam.page.getByRole("heading", { name: "Your answer" }).waitFor();
      await sam.page.getByRole("heading", { name: "Alex's guess" }).waitFor();
      // Side by side: the two cards share a row on a phone.
      const [left, right] = await Promise.all(
        [".side.answer", ".side.guess"].map((sel) => alex.page.locator(sel).boundingBox()),
      );
      expect(left && right && Math.abs(left.y - right.y) < 2 && left.x < right.x).toBe(true);
      await look(alex.page, "love-maps-reveal");

      await clickAndWait(alex.page, "Not quite");
      await atStep(sam.page, "tell-more");
      // The say step shows the same question again.
      expect(await sam.page.getByTestId("question").locator(".question-text").textContent()).toBe(question);
      await sam.page.getByLabel("Your words").fill("Harbour walks are where I think best.");
      await clickAndWait(sam.page, "Send");
      await atStep(sam.page, "again");
      await clickAndWait(sam.page, "That's enough for today");
      await sam.page.getByTestId("exercise-ended").waitFor();
    },
    SLOW,
  );

  it(
    "plan time: ideas alone, one picked together, a time offered, countered and agreed",
    async () => {
      await sam.page.getByRole("button", { name: "Start Plan time together" }).click();
      for (const p of [sam, alex]) await atStep(p.page, "ideas");
      await sam.page.getByLabel("Idea 1").fill("Picnic in the park");
      await sam.page.getByLabel(/Idea 2/).fill("Try the new ramen place");
      await look(sam.page, "plan-ideas");
      await clickAndWait(sam.page, "Share privately");
      await waitForVersion(alex.page, await shownVersion(sam.page));
      expect(await bodyText(alex.page)).not.toContain("Picnic");
      expect(await bodyText(alex.page)).not.toContain("ramen");
      await alex.page.getByLabel("Idea 1").fill("Pottery class");
      await clickAndWait(alex.page, "Share privately");

      for (const p of [sam, alex]) await atStep(p.page, "pick");
      await look(alex.page, "plan-pick");
      await clickAndWait(sam.page, /Picnic in the park/);
      await alex.page.getByText("Sam picked “Picnic in the park”").waitFor();
      await clickAndWait(alex.page, /Pottery class/);
      await sam.page.getByText("You picked different ones").waitFor();
      await look(sam.page, "plan-pick-different");
      await clickAndWait(sam.page, /Pottery class/);

      for (const p of [sam, alex]) await atStep(p.page, "when");
      await sam.page.getByText("About: Pottery class").waitFor();
      const when = sam.page.getByLabel("Day and time", { exact: true });
      expect(await when.getAttribute("type")).toBe("datetime-local");
      await when.fill(localIn(26));
      await look(sam.page, "plan-when-form");
      await clickAndWait(sam.page, "Suggest this");
      await sam.page.getByText("Waiting for Alex to agree").waitFor();
      await alex.page.getByTestId("agreement-offer").getByText("Sam suggests:").waitFor();
      await look(alex.page, "plan-offer");

      // Alex suggests another time and a detail; Sam agrees to that.
      await alex.page.getByRole("button", { name: "Suggest something else" }).click();
      await alex.page.getByLabel("Day and time", { exact: true }).fill(localIn(50));
      await alex.page.getByLabel("A detail, if it helps").fill("I'll book two places");
      await clickAndWait(alex.page, "Suggest this instead");
      await sam.page.getByTestId("agreement-offer").getByText("I'll book two places").waitFor();
      await clickAndWait(sam.page, "Agree");

      for (const p of [sam, alex]) await atStep(p.page, "look-forward");
      for (const p of [sam, alex]) {
        await p.page.getByLabel("Your words").fill("Getting our hands muddy together.");
        await clickAndWait(p.page, "Send");
      }
      for (const p of [sam, alex]) {
        const list = p.page.getByTestId("agreements");
        await list.waitFor();
        await list.getByText("Pottery class").waitFor();
        await list.getByText("I'll book two places").waitFor();
      }
      await alex.page.getByText("Suggested by you, agreed by Sam").waitFor();
      await look(alex.page, "plan-agreed");

      await sam.page.getByRole("button", { name: "End session" }).click();
      await sam.page.getByRole("button", { name: "Yes, end session" }).click();
      const summary = sam.page.getByTestId("summary");
      await summary.waitFor();
      await summary.getByTestId("agreements").getByText("Pottery class").waitFor();
      await look(sam.page, "summary-with-agreement");
    },
    SLOW,
  );
});

describe.runIf(runs)("an uploaded exercise in a spoken therapist session", () => {
  let server: RunningAttune;
  let browser: Browser;
  let therapist: TestPage;
  let robin: TestPage;
  let kai: TestPage;

  beforeAll(async () => {
    folder = `${SUITE}-therapist`;
    ({ server, browser } = await startBrowserSuite(folder));
    const created = await createTestSession(server.url, {
      mode: "therapist",
      channel: "spoken",
      agenda: [],
      names: { a: "Robin", b: "Kai" },
    });
    // The upload, admission and start go through a headless therapist; the console page then takes the seat.
    const t = await Participant.join(created.links.therapist!);
    for (const command of [
      { type: "add-exercise" as const, definition: JSON.parse(JSON.stringify(DATE_NIGHT)) },
      { type: "admit" as const, partners: ["a", "b"] as ("a" | "b")[] },
      { type: "start-exercise" as const, exerciseId: "date-night", firstSpeaker: "a" as const, seed: 3 },
    ]) {
      const ack = await t.send(command);
      if (!ack.ok) throw new Error(`${command.type}: ${ack.error.code}`);
    }
    t.close();
    therapist = await openPage(browser, LAPTOP);
    robin = await openPage(browser, PHONE);
    kai = await openPage(browser, PHONE);
    await therapist.page.goto(created.links.therapist!);
    await robin.page.goto(created.links.a);
    await kai.page.goto(created.links.b);
    for (const p of [robin, kai]) await atStep(p.page, "warm-up");
    await therapist.page.getByRole("heading", { name: "Therapist console" }).waitFor();
  });

  afterAll(async () => {
    for (const p of [therapist, robin, kai]) expect(p?.errors ?? []).toEqual([]);
    await browser?.close();
  });

  it(
    "guesses held in mind are said aloud; pick-one guesses stay private until both are in",
    async () => {
      await robin.page.getByText("Keep your answer in mind").waitFor();
      await kai.page.getByText("Keep your guess in mind").waitFor();
      await look(kai.page, "spoken-guess");
      await clickAndWait(robin.page, "I'm ready");
      await therapist.page.getByText("Robin is in · Kai is guessing").waitFor();
      await look(therapist.page, "console-guess-status", LAPTOP);
      await clickAndWait(kai.page, "I'm ready");
      await robin.page.getByText("Kai says their guess first, then you answer.").waitFor();
      await kai.page.getByText("Say your guess aloud first, then Robin answers.").waitFor();
      await clickAndWait(robin.page, "Close");

      for (const p of [robin, kai]) await atStep(p.page, "mood");
      await robin.page.getByRole("radio", { name: "A night out" }).check();
      await clickAndWait(robin.page, "Lock in my answer");
      await waitForVersion(kai.page, await shownVersion(robin.page));
      await waitForVersion(therapist.page, await shownVersion(robin.page));
      // Kai's screen and the console offer the choices but say nothing of Robin's.
      for (const p of [kai, therapist]) {
        expect(await p.page.locator(".guess-form .chip.selected").count()).toBe(0);
        expect(await p.page.getByTestId("guess-reveal").count()).toBe(0);
      }
      await kai.page.getByRole("radio", { name: "A night in" }).check();
      await clickAndWait(kai.page, "Lock in my guess");
      for (const p of [robin, kai, therapist]) {
        const reveal = p.page.getByTestId("guess-reveal");
        await reveal.locator(".side.answer").getByText("A night out").waitFor();
        await reveal.locator(".side.guess").getByText("A night in").waitFor();
      }
      await look(therapist.page, "console-reveal", LAPTOP);
      await clickAndWait(kai.page, "Not quite");
    },
    SLOW,
  );

  it(
    "ideas, a pick, a time, and a promise Robin offers and Kai acknowledges",
    async () => {
      for (const p of [robin, kai]) await atStep(p.page, "ideas");
      await robin.page.getByLabel("Idea 1").fill("Stargazing on the hill");
      await clickAndWait(robin.page, "Share privately");
      await waitForVersion(therapist.page, await shownVersion(robin.page));
      expect(await bodyText(therapist.page)).not.toContain("Stargazing");
      expect(await bodyText(kai.page)).not.toContain("Stargazing");
      await kai.page.getByLabel("Idea 1").fill("Board games by the fire");
      await clickAndWait(kai.page, "Share privately");

      await atStep(robin.page, "choose-one");
      await clickAndWait(robin.page, /Board games by the fire/);
      await clickAndWait(kai.page, /Board games by the fire/);

      await atStep(kai.page, "when");
      await kai.page.getByLabel("Day and time", { exact: true }).fill(localIn(30));
      await clickAndWait(kai.page, "Suggest this");
      await clickAndWait(robin.page, "Agree");

      await atStep(robin.page, "promise");
      await kai.page.getByText("Robin is putting it into words.").waitFor();
      // Spoken: the promise is one of the options (no typing).
      expect(await robin.page.getByLabel("Or in your own words").count()).toBe(0);
      await robin.page.getByRole("radio", { name: "I'll book it" }).check();
      await look(robin.page, "promise-form");
      await clickAndWait(robin.page, "Suggest this");
      await kai.page.getByTestId("agreement-offer").getByText("I'll book it").waitFor();
      await kai.page.getByText("they can change it before you agree").waitFor();
      await look(kai.page, "promise-offered");
      await clickAndWait(kai.page, "I agree");
      for (const p of [robin, kai]) {
        const list = p.page.getByTestId("agreements");
        await list.getByText("I'll book it").waitFor();
        await list.getByText("Board games by the fire").waitFor();
      }
      await look(kai.page, "agreed-after-exercise");
      expect(await shownStep(robin.page)).toBeNull();
    },
    SLOW,
  );
});
