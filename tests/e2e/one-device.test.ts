/**
 * One device for two: "we're on one device" on the home page opens both partner seats in one tab, and the page
 * passes the device between them through a private check-in and a whole appreciation exchange (spoken channel),
 * with a hand-over screen each time the seat whose move it is changes. While handed over, nothing private of
 * either seat is on the page. Also: opening the second partner's link in a tab that holds the first makes a
 * shared device too, and a link of another session replaces the seats the tab held.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import {
  chromiumAvailable,
  numberedScreenshots,
  openPhone,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { createTestSession } from "../support/server.ts";
import { makeMove, shownStep, shownVersion } from "./driver.ts";

const SUITE = "one-device";
const runs = requireService("chromium", chromiumAvailable());

/** Who holds the device now: the hand-over target while the hand-over screen shows, else the seat on screen. */
async function holder(page: Page): Promise<{ handingTo: string | null; seat: string | null }> {
  const handover = page.getByTestId("handover");
  if ((await handover.count()) > 0) return { handingTo: await handover.getAttribute("data-to"), seat: null };
  return { handingTo: null, seat: await page.locator(".seat-room").getAttribute("data-seat") };
}

async function takeDevice(page: Page, name: string): Promise<void> {
  await page.getByRole("button", { name: `I'm ${name} — show my screen` }).click();
  await page.locator(".seat-room").waitFor();
}

describe.runIf(runs)("one device for two partners", () => {
  let server: RunningAttune;
  let browser: Browser;
  let device: TestPage;
  const numbered = numberedScreenshots(SUITE);
  const snap = (name: string) => numbered(device.page, name);

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
    device = await openPhone(browser);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("opens both seats from the home page's one-device choice", async () => {
    const page = device.page;
    await page.goto(`${server.url}/`);
    await page.getByLabel("Out loud").check();
    await page.getByLabel("Intentional dialogue").uncheck();
    await page.getByLabel("Appreciation exchange").check();
    await page.getByLabel("First partner").fill("Robin");
    await page.getByLabel("Second partner").fill("Kai");
    await page.getByRole("button", { name: "Create our session" }).click();
    await page.getByRole("button", { name: "We're on one device — start here" }).click();
    expect(new URL(page.url()).pathname).toBe("/room");
    await page.getByText("One device ·").waitFor();
    await page.getByText("Robin's turn").waitFor();
    const stored = await page.evaluate(() => Object.keys(sessionStorage).sort());
    expect(stored).toEqual(["attune.seat.a", "attune.seat.b", "attune.session"]);
    await snap("lobby");
  });

  it("hands the device over for each private check-in answer and hides the first answer from the second", async () => {
    const page = device.page;
    await page.getByRole("button", { name: "Start Emotional check-in" }).click();
    await page.locator("section.step[data-step-id=feel]").waitFor();
    expect(await holder(page)).toEqual({ handingTo: null, seat: "a" });
    await makeMove(page, { answer: { rating: 8, feeling: "grateful", note: "Robin-only-note-93" } });

    await page.getByRole("heading", { name: "Pass the device to Kai" }).waitFor();
    // The hand-over screen carries nothing private: not Robin's note, not Robin's answer form.
    expect(await page.content()).not.toContain("Robin-only-note-93");
    expect(await page.locator("section.step").count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("handover-heading");
    await page.getByTestId("announcer").filter({ hasText: "Pass the device to Kai." }).waitFor();
    await snap("handover-to-kai");
    expect(await seriousAxeViolations(page)).toEqual([]);

    await takeDevice(page, "Kai");
    expect(await holder(page)).toEqual({ handingTo: null, seat: "b" });
    expect(await page.content()).not.toContain("Robin-only-note-93");
    await page.getByText("Robin has answered.").waitFor();
    await makeMove(page, { answer: { rating: 6, feeling: "tired", note: "Kai-only-note-28" } });
    const reveal = page.getByTestId("check-in-reveal");
    await reveal.waitFor();
    expect(await reveal.textContent()).toContain("Robin-only-note-93");
    expect(await reveal.textContent()).toContain("Kai-only-note-28");
    await snap("check-in-reveal");
  });

  it("passes the device through a whole appreciation exchange without hiding the screen: nothing there is private", async () => {
    const page = device.page;
    await page.getByRole("button", { name: "Start Appreciation exchange" }).click();
    // The check-in's end-of-exercise moment is still on screen until the new exercise arrives.
    await page.getByTestId("exercise-ended").waitFor({ state: "detached" });
    const names: Record<string, string> = { a: "Robin", b: "Kai" };
    const handovers: string[] = [];
    let moves = 0;
    const visits = new Map<string, number>();
    while (moves++ < 40) {
      if ((await page.getByTestId("exercise-ended").count()) > 0) break;
      const before = await shownVersion(page);
      const state = await holder(page);
      if (state.handingTo) {
        handovers.push(state.handingTo);
        if (handovers.length <= 2) await snap(`handover-${handovers.length}`);
        await takeDevice(page, names[state.handingTo]!);
        continue;
      }
      const step = await shownStep(page);
      if (!step) {
        await page.locator("section.step, [data-testid=handover], [data-testid=exercise-ended]").first().waitFor();
        continue;
      }
      // The seat on screen is always the one whose move it is.
      expect(step.yourMove).toBe(true);
      const key = `${state.seat}:${step.id}`;
      visits.set(key, (visits.get(key) ?? 0) + 1);
      if (moves <= 4) await snap(`${step.id}-${names[state.seat!]}`);
      // Each partner offers two appreciations: "Another one" once, then "That's my list".
      const option = step.id === "more" ? (visits.get(key) === 1 ? "Another one" : "That's my list") : undefined;
      await makeMove(page, option ? { option } : {});
      expect(await shownVersion(page)).toBeGreaterThan(before);
    }
    await page.getByTestId("exercise-ended").getByText("You finished Appreciation exchange").waitFor();
    // Speaker and listener alternate on every say step, but nothing is private: the screen never hid, it changed hands.
    expect(handovers).toEqual([]);
    expect(visits.get("a:receive")).toBeGreaterThanOrEqual(1);
    expect(visits.get("b:receive")).toBeGreaterThanOrEqual(1);
    expect(visits.get("a:appreciate")).toBe(2);
    expect(visits.get("b:appreciate")).toBe(2);
    await snap("exercise-ended");
    expect(device.errors).toEqual([]);
  });

  it("makes a shared device from a second partner link in the same tab; another session's link replaces it", async () => {
    const session = await createTestSession(server.url, {
      mode: "guided",
      channel: "spoken",
      agenda: ["appreciation"],
      names: { a: "Noor", b: "Eli" },
    });
    const tab = await openPhone(browser);
    await tab.page.goto(session.links.a);
    await tab.page.getByText("Noor (you) · here").waitFor();
    await tab.page.goto(session.links.b);
    await tab.page.getByText("One device ·").waitFor();
    await tab.page.getByRole("button", { name: "Start Appreciation exchange" }).click();
    await tab.page.locator("section.step[data-step-id=appreciate]").waitFor();
    expect(await holder(tab.page)).toEqual({ handingTo: null, seat: "a" });
    await makeMove(tab.page);
    // Not a private step: the screen shows Eli's turn without hiding.
    await tab.page.getByText("Eli's turn", { exact: false }).first().waitFor();
    expect(await holder(tab.page)).toEqual({ handingTo: null, seat: "b" });

    // A link of another session replaces the seats this tab held: no mixing of two sessions on one screen.
    const next = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      names: { a: "Ana", b: "Bo" },
    });
    await tab.page.goto(next.links.b);
    await tab.page.getByText("Bo (you) · here").waitFor();
    expect(await tab.page.getByText("One device ·").count()).toBe(0);
    const kept = await tab.page.evaluate(() => ({ ...sessionStorage }));
    expect(kept).toEqual({ "attune.session": next.id, "attune.seat.b": next.links.b.split("/").pop() });
    await tab.context.close();
  });
});
