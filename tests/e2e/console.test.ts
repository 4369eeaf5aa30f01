/**
 * The therapist's console at 1280×800 with two partners in their own browsers: the couple, the step (with what each
 * partner sees), the conversation and the pacing all in the first screen without scrolling; keyboard shortcuts that
 * never fire while typing; floor time moving as the partners take turns (therapist only); the record downloaded as
 * Markdown with the notes and the conversation, and printable. A guided pair shows the kind floor suggestion reaching
 * only the partner who held the floor. Screenshots (light and dark) go to test-output/e2e/console/.
 */
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import {
  buildClient,
  chromiumAvailable,
  launchBrowser,
  numberedScreenshots,
  openPage,
  resetScreenshots,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { generateWaitingKeyPair } from "../../shared/key-exchange.ts";
import { GRATITUDE_MINUTE } from "../support/exercises.ts";
import { createTestSession, startTestServer } from "../support/server.ts";
import { makeMove, shownStep, shownVersion, waitForVersion } from "./driver.ts";

const SUITE = "console";
const runs = requireService("chromium", chromiumAvailable());
const snap = numberedScreenshots(SUITE);
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const GRATITUDE_TWO = { ...GRATITUDE_MINUTE, id: "gratitude-two", title: "Gratitude, two" };

/** Whether it is this page's move on the step it shows. */
async function shownStepMove(page: Page): Promise<boolean> {
  return (await shownStep(page))?.yourMove ?? false;
}

async function bodyText(page: Page): Promise<string> {
  return (await page.locator("body").textContent()) ?? "";
}

/** The element's box, asserted to lie wholly inside the first 1280×800 screen. */
async function expectInFirstScreen(page: Page, selector: string): Promise<void> {
  const box = await page.locator(selector).first().boundingBox();
  expect(box, selector).not.toBeNull();
  expect(box!.y, `${selector} top`).toBeGreaterThanOrEqual(0);
  expect(box!.x, `${selector} left`).toBeGreaterThanOrEqual(0);
  expect(box!.y + box!.height, `${selector} bottom`).toBeLessThanOrEqual(LAPTOP.height + 1);
  expect(box!.x + box!.width, `${selector} right`).toBeLessThanOrEqual(LAPTOP.width + 1);
}

/** Shoots the page in the light and the dark colour scheme. */
async function lightAndDark(page: Page, name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: "light" });
  await snap(page, `${name}-light`);
  await page.emulateMedia({ colorScheme: "dark" });
  await snap(page, `${name}-dark`);
  await page.emulateMedia({ colorScheme: "light" });
}

describe.runIf(runs)("the therapist console at 1280×800, with two partners", () => {
  let server: RunningAttune;
  let browser: Browser;
  let therapist: TestPage;
  let robin: TestPage;
  let kai: TestPage;

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
    const created = await createTestSession(server.url, {
      mode: "therapist",
      channel: "typed",
      agenda: ["intentional-dialogue", "stress-reducing"],
      names: { a: "Robin", b: "Kai" },
    });
    therapist = await openPage(browser, LAPTOP);
    robin = await openPage(browser, PHONE);
    kai = await openPage(browser, PHONE);
    await robin.page.goto(created.links.a);
    await kai.page.goto(created.links.b);
    await therapist.page.goto(created.links.therapist!);
    await therapist.page.getByRole("heading", { name: "Therapist console" }).waitFor();
  });

  afterAll(async () => {
    for (const p of [therapist, robin, kai]) expect(p?.errors ?? []).toEqual([]);
    await browser?.close();
  });

  it("admits both and starts the dialogue: couple, step, conversation and pacing in the first screen", async () => {
    const t = therapist.page;
    await t.getByRole("button", { name: "Admit both" }).waitFor();
    await lightAndDark(t, "lobby-waiting");
    await t.getByRole("button", { name: "Admit both" }).click();
    await expect.poll(() => t.getByTestId("status-b").textContent()).toBe("in the room");
    await t.getByRole("button", { name: "Start exercise" }).click();
    await t.getByRole("heading", { name: "Intentional dialogue" }).waitFor();
    for (const selector of [
      "section.partners",
      "section.exercise",
      "[data-testid=conversation]",
      "section.pacing-panel",
      "section.coaching",
      "[data-testid=airtime]",
    ]) {
      await expectInFirstScreen(t, selector);
    }
    // One screen: the page itself does not scroll.
    const [scrollHeight, innerHeight] = await t.evaluate(() => [
      document.documentElement.scrollHeight,
      window.innerHeight,
    ]);
    expect(scrollHeight).toBeLessThanOrEqual(innerHeight + 1);
    // What each partner sees now: their role, their prompt, whose move it is.
    // The partners' prompts were written to them; the console names them instead ("Robin is naming…").
    await expect.poll(() => t.getByTestId("move-a").textContent()).toBe("Robin's move");
    expect(await t.getByTestId("sees-a").textContent()).toContain("Robin · speaking");
    expect(await t.getByTestId("move-b").textContent()).toBe("waiting for Robin");
    expect(await t.getByTestId("sees-b").textContent()).toContain(
      "Kai sees: “Robin is naming what they would like to talk about.”",
    );
    expect(await t.locator("section.exercise").textContent()).not.toMatch(/[Yy]our partner/);
    // Authoring is not in the live view.
    expect(await t.getByRole("heading", { name: "Add your own exercise" }).count()).toBe(0);
    expect(await seriousAxeViolations(t)).toEqual([]);
    await lightAndDark(t, "live-start");
  });

  it("shows the conversation live and the floor time moving, to the therapist only", async () => {
    const t = therapist.page;
    await makeMove(robin.page, { text: "Is now a good time to talk about Sunday?" });
    await expect.poll(() => t.getByTestId("move-b").textContent()).toBe("Kai's move");
    expect(await t.getByTestId("move-a").textContent()).toBe("waiting for Kai");
    expect(await t.getByTestId("sees-a").textContent()).toContain("Robin sees: “Kai is deciding whether now works.”");
    await makeMove(kai.page, { option: "Now works" });
    await makeMove(robin.page, { text: "I felt left out when plans changed." });
    await t.getByTestId("conversation").getByText("I felt left out when plans changed.").waitFor();
    await expectInFirstScreen(t, "[data-testid=conversation]");
    await expect.poll(() => t.getByTestId("move-b").textContent()).toBe("Kai's move");

    const split = t.getByTestId("airtime").locator(".airtime-words").last();
    await expect.poll(async () => (await split.textContent()) ?? "").toMatch(/Robin 0:0[1-9]|Robin 0:[1-5]\d/);
    expect(await t.getByTestId("airtime-turns").textContent()).toContain("Robin 1, Kai 0");
    // Hand the floor with its key (nothing is focused that takes letters): Kai starts at the first step.
    await t.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await t.keyboard.press("f");
    await kai.page.locator(".progress-line", { hasText: "you share" }).waitFor();
    await expect.poll(() => t.getByTestId("airtime-turns").textContent()).toContain("Robin 1, Kai 1");
    await expect.poll(() => t.getByTestId("floor").textContent()).toContain("Speaker: Kai");
    expect(await t.locator("section.exercise").getAttribute("data-step-id")).toBe("invite");
    // Kai's time starts counting.
    await expect.poll(async () => (await split.textContent()) ?? "", { timeout: 5000 }).toMatch(/Kai 0:0[1-9]/);
    await makeMove(kai.page, { text: "Can we talk about the weekend too?" });

    // The couple never sees a score or the split.
    const version = await shownVersion(t);
    for (const p of [robin, kai]) {
      await waitForVersion(p.page, version);
      const text = await bodyText(p.page);
      expect(text).not.toContain("Floor time");
      expect(text).not.toMatch(/\d+%/);
      expect(await p.page.getByTestId("floor-suggestion").count()).toBe(0);
    }
    await lightAndDark(t, "live-airtime");
  });

  it("keeps shortcuts out of the way while typing, and pauses and resumes with P", async () => {
    const t = therapist.page;
    await t.keyboard.press("m");
    const box = t.getByLabel("Message to both");
    await expect.poll(() => t.evaluate(() => document.activeElement?.tagName)).toBe("TEXTAREA");
    await t.keyboard.type("please both breathe, pause for a second");
    expect(await box.inputValue()).toBe("please both breathe, pause for a second");
    // Typing "p", "b", "s" and "f" in the box paused, moved or handed nothing.
    expect(await t.getByRole("button", { name: "Pause", exact: true }).count()).toBe(1);
    expect(await t.getByTestId("floor").textContent()).toContain("Speaker: Kai");
    await t.keyboard.press("Escape");
    await t.keyboard.press("p");
    await robin.page.locator(".paused-note").waitFor();
    await t.getByRole("button", { name: "Resume" }).waitFor();
    await t.keyboard.press("p");
    await expect.poll(() => robin.page.locator(".paused-note").count()).toBe(0);
    // The draft waited in its box; the documented shortcuts are in the console.
    expect(await box.inputValue()).toBe("please both breathe, pause for a second");
    await t.getByText("Keyboard shortcuts").click();
    await t.getByText("Hand the floor to Robin").first().waitFor();
    await t.getByText("Keyboard shortcuts").click();
  });

  it("drafts a gentle note to both from the floor time, sends it, and keeps a private note", async () => {
    const t = therapist.page;
    await t.getByRole("button", { name: "Draft a gentle note to both" }).click();
    const box = t.getByLabel("Message to both");
    expect(await box.inputValue()).toContain("room to be heard");
    await t.getByRole("button", { name: "Send to both" }).click();
    for (const p of [robin, kai]) await p.page.getByText("A gentle note for you both").first().waitFor();

    await t.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await t.keyboard.press("w");
    await t.getByLabel("New note").fill("Robin leans in when Kai slows down (private note).");
    await t.getByRole("button", { name: "Save note" }).click();
    await t.locator(".note-list").getByText("Robin leans in").waitFor();
    const version = await shownVersion(t);
    for (const p of [robin, kai]) {
      await waitForVersion(p.page, version);
      expect(await bodyText(p.page)).not.toContain("private note");
    }
    await expectInFirstScreen(t, "[data-testid=conversation]");
    await expectInFirstScreen(t, "section.pacing-panel");
  });

  it("downloads the record as Markdown with the notes and the conversation, and prints the record alone", async () => {
    const t = therapist.page;
    await t.getByRole("tab", { name: "Session record" }).click();
    const record = t.getByTestId("session-record");
    // Created with encrypted: false: the record panel says so.
    await t.getByTestId("not-encrypted").waitFor();
    await record.getByText("Robin leans in when Kai slows down").waitFor();
    await record.getByText("I felt left out when plans changed.").waitFor();
    const [download] = await Promise.all([t.waitForEvent("download"), t.getByTestId("download-record").click()]);
    expect(download.suggestedFilename()).toMatch(/^attune-session-\d{4}-\d\d-\d\d-\d{4}\.md$/);
    const markdown = readFileSync((await download.path())!, "utf8");
    expect(markdown).toContain("# Session record — Robin and Kai");
    expect(markdown).toContain("## Your private notes");
    expect(markdown).toContain("Robin leans in when Kai slows down (private note).");
    expect(markdown).toContain("I felt left out when plans changed.");
    expect(markdown).toContain("## Floor time");
    expect(markdown).toMatch(/Robin \d+:\d\d over 1 turn/);
    expect(await seriousAxeViolations(t)).toEqual([]);
    await lightAndDark(t, "record");

    await t.emulateMedia({ media: "print" });
    expect(await t.locator(".console-head").isVisible()).toBe(false);
    expect(await t.locator(".record-actions").isVisible()).toBe(false);
    expect(await record.isVisible()).toBe(true);
    await snap(t, "record-print");
    await t.emulateMedia({ media: "screen" });
  });

  it("keeps authoring on its own tab, and reads at phone width", async () => {
    const t = therapist.page;
    await t.getByRole("tab", { name: "Exercises" }).click();
    await t.getByRole("heading", { name: "Add your own exercise" }).waitFor();
    expect(await seriousAxeViolations(t)).toEqual([]);
    // The file picker wears the page's own button look in both schemes (never the browser's grey default).
    for (const scheme of ["light", "dark"] as const) {
      await t.emulateMedia({ colorScheme: scheme });
      const look = await t.locator('input[type="file"]').evaluate((el) => {
        const button = getComputedStyle(el, "::file-selector-button");
        const root = getComputedStyle(document.documentElement);
        const probe = document.createElement("span");
        probe.style.color = root.getPropertyValue("--accent");
        probe.style.backgroundColor = root.getPropertyValue("--surface");
        document.body.append(probe);
        const want = getComputedStyle(probe);
        const result = {
          color: button.color === want.color,
          background: button.backgroundColor === want.backgroundColor,
          round: Number.parseFloat(button.borderTopLeftRadius) >= 16,
        };
        probe.remove();
        return result;
      });
      expect(look, scheme).toEqual({ color: true, background: true, round: true });
    }
    await lightAndDark(t, "exercises-tab");
    await t.getByRole("tab", { name: "Live session" }).click();
    await t.setViewportSize(PHONE);
    const wide = await t.evaluate(() => {
      const limit = document.documentElement.clientWidth;
      return [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > limit + 1)
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    });
    expect(wide).toEqual([]);
    await lightAndDark(t, "live-phone");
    expect(await seriousAxeViolations(t)).toEqual([]);
    await t.setViewportSize(LAPTOP);
  });
});

describe.runIf(runs)("a guided pair: the kind floor suggestion reaches only the partner holding the floor", () => {
  let server: RunningAttune;
  let browser: Browser;
  let robin: TestPage;
  let kai: TestPage;

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(`${SUITE}-guided`));
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Robin", b: "Kai" },
    });
    robin = await openPage(browser, PHONE);
    kai = await openPage(browser, PHONE);
    // The partners' clocks are the browser's: each page gets one the test can move on.
    for (const p of [robin, kai]) await p.page.clock.install();
    await robin.page.goto(created.links.a);
    await kai.page.goto(created.links.b);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("after minutes on the floor, Robin (speaking) gets the suggestion; Kai never does", async () => {
    const r = robin.page;
    await r.getByRole("button", { name: "Start", exact: false }).first().click();
    await r.locator(".progress-line", { hasText: "you share" }).waitFor();
    expect(await r.getByTestId("floor-suggestion").count()).toBe(0);
    // Six minutes later by the partners' clocks (the engine's own limit is five minutes ahead of the other).
    for (const p of [robin, kai]) {
      await p.page.clock.setSystemTime(Date.now() + 6 * 60_000);
      await p.page.clock.runFor(6000);
    }
    await r.getByTestId("floor-suggestion").waitFor();
    await r.getByText("bringing your turn to a close gives Kai room to be heard too").waitFor();
    expect(await kai.page.getByTestId("floor-suggestion").count()).toBe(0);
    expect(await bodyText(kai.page)).not.toContain("room to be heard");
    await snap(r, "guided-suggestion-speaker");
    await snap(kai.page, "guided-listener");
    expect(await seriousAxeViolations(r)).toEqual([]);
  });
});

describe.runIf(runs)("a guided pair on one device: the floor suggestion names the partner it is for", () => {
  let server: RunningAttune;
  let browser: Browser;
  let device: TestPage;

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(`${SUITE}-one-device`));
    const created = await createTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Robin", b: "Kai" },
    });
    device = await openPage(browser, PHONE);
    await device.page.clock.install();
    // Opening the second partner's link in the tab holding the first makes one shared device.
    await device.page.goto(created.links.a);
    await device.page.locator(".seat-room").waitFor();
    await device.page.goto(created.links.b);
    await device.page.getByText("One device ·").waitFor();
  });

  afterAll(async () => {
    expect(device?.errors ?? []).toEqual([]);
    await browser?.close();
  });

  it("shows it while Robin holds the device, by name and without a 'you' both would read", async () => {
    const page = device.page;
    await page.getByRole("button", { name: "Start", exact: false }).first().click();
    const holding = () => page.getByTestId("device-holder").getAttribute("data-seat");
    await page.locator("section.step[data-step-id=invite]").waitFor();
    await expect.poll(holding).toBe("a");
    await makeMove(page, { text: "Is now a good time to talk about Sunday?" });
    await page.locator("section.step[data-step-id=ready]").waitFor();
    await expect.poll(holding).toBe("b");
    await makeMove(page, { option: "Now works" });
    await page.locator("section.step[data-step-id=send]").waitFor();
    await expect.poll(() => page.getByTestId("device-holder").getAttribute("data-seat")).toBe("a");
    expect(await page.getByTestId("floor-suggestion").count()).toBe(0);
    await page.clock.setSystemTime(Date.now() + 6 * 60_000);
    await page.clock.runFor(6000);
    const suggestion = page.getByTestId("floor-suggestion");
    await suggestion.waitFor();
    const words = (await suggestion.textContent()) ?? "";
    expect(words).toContain("Robin has had the floor for a good while today");
    expect(words).toContain("When Robin is ready, bringing this turn to a close gives Kai room to be heard too.");
    expect(words).not.toMatch(/\b[Yy]ou(r|'re|'ve)?\b/);
    expect(await suggestion.getAttribute("aria-label")).toBe("A suggestion for Robin");
    expect(await seriousAxeViolations(page)).toEqual([]);
    await lightAndDark(page, "one-device-suggestion");
  });
});

describe.runIf(runs)("a practice: opened with a key, a standing link two partners wait at, one session started", () => {
  const KEY = "practice-key-for-the-browser-test";
  let url: string;
  let browser: Browser;
  let therapist: TestPage;
  let robin: TestPage;
  let kai: TestPage;

  beforeAll(async () => {
    resetScreenshots(`${SUITE}-practice`);
    buildClient();
    // The API clients below wait from addresses of their own (forwarded), so the browsers' waits stay under the
    // per-address limit.
    url = (await startTestServer({ therapistApiKeys: [KEY], trustProxy: ["loopback"] })).url;
    browser = await launchBrowser();
    therapist = await openPage(browser, LAPTOP);
    robin = await openPage(browser, PHONE);
    kai = await openPage(browser, PHONE);
  });

  afterAll(async () => {
    // The one refusal the test asks for (the wrong key) is the browser's only logged failure.
    const expected = (e: string) => /status of 401/.test(e);
    expect((therapist?.errors ?? []).filter((e) => !expected(e))).toEqual([]);
    expect((therapist?.errors ?? []).filter(expected).length).toBeLessThanOrEqual(1);
    for (const p of [robin, kai]) expect(p?.errors ?? []).toEqual([]);
    await browser?.close();
  });

  it("opens the practice with the key, refusing a wrong one in plain words", async () => {
    const t = therapist.page;
    await t.goto(`${url}/practice`);
    await t.getByLabel("Practice name, as couples will see it").fill("Rivera Couples");
    await t.getByLabel("Practice key").fill("not-the-right-key");
    await t.getByRole("button", { name: "Open my practice" }).click();
    await t.getByRole("alert").getByText("That practice key wasn't recognised.").waitFor();
    expect(await seriousAxeViolations(t)).toEqual([]);
    await t.getByLabel("Practice key").fill(KEY);
    await t.getByRole("button", { name: "Open my practice" }).click();
    await t.getByRole("heading", { name: "Your practice is open" }).waitFor();
    await t.getByRole("button", { name: "Open my practice here" }).click();
    await t.getByRole("heading", { name: "Rivera Couples" }).waitFor();
    expect(t.url()).toBe(`${url}/practice`);
  });

  it("renames the practice, refusing an empty, a too long or a broken name in plain words", async () => {
    const t = therapist.page;
    const storedName = () =>
      t.evaluate(async () => {
        const token = sessionStorage.getItem("attune.practice");
        const res = await fetch("/api/practice", { headers: { authorization: `Bearer ${token}` } });
        return ((await res.json()) as { displayName: string }).displayName;
      });
    await t.getByRole("button", { name: "Rename" }).click();
    const field = t.getByLabel("Practice name, as couples see it");
    const save = t.getByRole("button", { name: "Save the name" });
    await expect.poll(() => field.inputValue()).toBe("Rivera Couples");
    await field.fill("   ");
    await save.click();
    await t.getByRole("alert").getByText("Give your practice a name.").waitFor();
    await field.fill("x".repeat(81));
    await save.click();
    await t.getByRole("alert").getByText("Keep the name to 80 characters or fewer (this one has 81).").waitFor();
    // A broken character (half of a surrogate pair, as a bad paste can leave), made inside the page.
    await field.evaluate((el) => {
      const input = el as HTMLInputElement;
      input.value = `Dr ${String.fromCharCode(0xd800)}Rivera`;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await save.click();
    await t
      .getByRole("alert")
      .getByText(/broken character/)
      .waitFor();
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    expect(await storedName()).toBe("Rivera Couples");
    expect(await seriousAxeViolations(t)).toEqual([]);
    await lightAndDark(t, "practice-rename-refused");
    // Escape leaves the name as it was; then a good name is saved and shown.
    await field.press("Escape");
    await t.getByRole("heading", { name: "Rivera Couples" }).waitFor();
    await t.getByRole("button", { name: "Rename" }).click();
    await field.fill("  Dr   Rivera ");
    await save.click();
    await t.getByRole("heading", { name: "Dr Rivera" }).waitFor();
    await t.getByText("Renamed. Couples now see “Dr Rivera”.").waitFor();
    expect(await storedName()).toBe("Dr Rivera");
  });

  it("keeps two exercises in the library", async () => {
    const t = therapist.page;
    const box = t.getByLabel("Exercise definition (JSON)");
    for (const definition of [GRATITUDE_MINUTE, GRATITUDE_TWO]) {
      await box.fill(JSON.stringify(definition));
      await t.getByRole("button", { name: "Save to library" }).click();
      await t.getByText(`Saved “${definition.title}” to your library.`).waitFor();
    }
    await t.getByTestId("library").getByText(GRATITUDE_TWO.title, { exact: true }).waitFor();
  });

  it("two partners open the standing link, give a first name and wait; the therapist starts them together", async () => {
    const t = therapist.page;
    const roomLink = (await t.getByTestId("standing-link").textContent())!.trim();
    for (const [p, name] of [
      [robin, "Robin"],
      [kai, "Kai"],
    ] as const) {
      await p.page.goto(roomLink);
      await p.page.getByRole("heading", { name: "Welcome to Dr Rivera" }).waitFor();
      // The token left the address bar.
      expect(p.page.url()).toBe(`${url}/waiting`);
      await p.page.getByLabel("Your first name").fill(name);
      await p.page.getByRole("button", { name: "I'm here" }).click();
      await p.page.getByRole("heading", { name: "You're in the waiting room" }).waitFor();
      await p.page.getByText("Dr Rivera will start your session shortly").waitFor();
    }
    await lightAndDark(robin.page, "practice-partner-waiting");
    expect(await seriousAxeViolations(robin.page)).toEqual([]);
    const list = t.getByTestId("waiting");
    await list.getByText("Robin").waitFor();
    await list.getByText("Kai").waitFor();
    expect(await seriousAxeViolations(t)).toEqual([]);
    await lightAndDark(t, "practice-waiting-list");
    await list.getByRole("checkbox", { name: /Robin/ }).check();
    await list.getByRole("checkbox", { name: /Kai/ }).check();
    // The library's exercises are all ticked to begin with; this session takes only the second one.
    const choice = t.locator("section.waiting-list").getByTestId("library-choice");
    expect(await choice.getByRole("checkbox", { name: GRATITUDE_MINUTE.title }).isChecked()).toBe(true);
    await choice.getByRole("checkbox", { name: GRATITUDE_MINUTE.title }).uncheck();
    expect(await choice.getByRole("checkbox", { name: GRATITUDE_TWO.title }).isChecked()).toBe(true);
    await lightAndDark(t, "practice-start-choice");
    await t.setViewportSize(PHONE);
    await lightAndDark(t, "practice-phone");
    expect(await seriousAxeViolations(t)).toEqual([]);
    await t.setViewportSize(LAPTOP);
    await t.getByRole("button", { name: "Start a session", exact: true }).click();
    await t.getByText("Robin and Kai are in their session").waitFor();
    // Both partners land in the session, already admitted, by their first names; no new link was handed out.
    for (const p of [robin, kai]) {
      await p.page.getByRole("heading", { name: "Welcome. Settle in together." }).waitFor();
    }
    await t.getByRole("link", { name: "Open my console here" }).click();
    await t.getByRole("heading", { name: "Therapist console" }).waitFor();
    await expect.poll(() => t.getByTestId("status-a").textContent()).toBe("in the room");
    expect(await t.getByTestId("partner-a").textContent()).toContain("Robin");
    expect(await t.getByTestId("partner-b").textContent()).toContain("Kai");
    // Only the chosen library exercise was loaded.
    const agenda = (await t.getByRole("list", { name: "Agenda" }).textContent()) ?? "";
    expect(agenda).toContain(GRATITUDE_TWO.title);
    expect(agenda).not.toContain(GRATITUDE_MINUTE.title);
    await snap(t, "practice-console");
  });

  it("starts a typed session from the waiting list end-to-end encrypted: the keys reach each partner's page", async () => {
    const t = therapist.page;
    await t.goto(`${url}/practice`);
    const roomLink = (await t.getByTestId("standing-link").textContent())!.trim();
    const noor = await openPage(browser, PHONE);
    const sami = await openPage(browser, PHONE);
    const codes: Record<string, string> = {};
    for (const [p, name] of [
      [noor, "Noor"],
      [sami, "Sami"],
    ] as const) {
      await p.page.goto(roomLink);
      await p.page.getByLabel("Your first name").fill(name);
      await p.page.getByRole("button", { name: "I'm here" }).click();
      await p.page.getByRole("heading", { name: "You're in the waiting room" }).waitFor();
      const code = p.page.getByTestId("privacy-code");
      await code.waitFor();
      codes[name] = /\d{4} \d{4} \d{4} \d{4}/.exec((await code.textContent()) ?? "")?.[0] ?? "";
      expect(codes[name]).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
    }
    // A reload keeps the place and its key: the same privacy code.
    await noor.page.reload();
    await noor.page.getByRole("heading", { name: "You're in the waiting room" }).waitFor();
    await expect.poll(() => noor.page.getByTestId("privacy-code").textContent()).toContain(codes.Noor);
    expect(codes.Noor).not.toBe(codes.Sami);
    await lightAndDark(noor.page, "practice-partner-privacy-code");
    await noor.page.setViewportSize(LAPTOP);
    await lightAndDark(noor.page, "practice-partner-privacy-code-laptop");
    await noor.page.setViewportSize(PHONE);
    expect(await seriousAxeViolations(noor.page)).toEqual([]);

    // The console lists each partner with the same code their page shows.
    const list = t.getByTestId("waiting");
    for (const name of ["Noor", "Sami"]) {
      const entry = list.locator("li", { hasText: name });
      await expect.poll(() => entry.getByTestId("privacy-code").textContent()).toContain(codes[name]!);
      await entry.getByRole("checkbox").check();
    }
    const panel = t.locator("section.waiting-list");
    await panel.getByRole("radio", { name: "Typing" }).check();
    expect(await panel.getByTestId("keyless-warning").count()).toBe(0);
    await lightAndDark(t, "practice-waiting-list-codes");
    expect(await seriousAxeViolations(t)).toEqual([]);
    await panel.getByRole("button", { name: "Start a session", exact: true }).click();
    await t.getByText("Noor and Sami are in their session").waitFor();
    for (const p of [noor, sami]) {
      await p.page.getByRole("heading", { name: "Welcome. Settle in together." }).waitFor();
      // Each page kept its seat's keys beside its token, as a link's fragment would be kept.
      const kept = await p.page.evaluate(() =>
        Object.keys(sessionStorage)
          .filter((k) => k.startsWith("attune.keys."))
          .map((k) => sessionStorage.getItem(k)),
      );
      expect(kept).toEqual([expect.stringMatching(/^k=[A-Za-z0-9_-]{43}&p[ab]=[A-Za-z0-9_-]{43}$/)]);
    }
    const consoleLink = await panel.getByRole("link", { name: "Open my console here" }).getAttribute("href");
    expect(consoleLink).toMatch(/#k=[A-Za-z0-9_-]{43}&n=[A-Za-z0-9_-]{43}&pa=[A-Za-z0-9_-]{43}&pb=/);
    await panel.getByRole("link", { name: "Open my console here" }).click();
    await t.getByRole("heading", { name: "Therapist console" }).waitFor();
    // The names were sealed in the console's browser and open here.
    await expect.poll(() => t.getByTestId("partner-a").textContent()).toContain("Noor");
    expect(await t.getByTestId("partner-b").textContent()).toContain("Sami");

    // One partner says something (the check-in's sentence, sealed like every typed text); once both have answered,
    // the other partner and the console read it, opened.
    await t.getByRole("button", { name: "Start exercise" }).click();
    await t.getByRole("heading", { name: "Emotional check-in" }).waitFor();
    const words = "Tired, and glad we made time for this.";
    for (const p of [noor, sami]) await expect.poll(() => shownStepMove(p.page)).toBe(true);
    await makeMove(noor.page, { answer: { rating: 6, feeling: "tired", note: words } });
    await makeMove(sami.page, { answer: { rating: 7, feeling: "hopeful" } });
    await sami.page.getByText(words).first().waitFor();
    await expect.poll(() => bodyText(t)).toContain(words);
    for (const page of [sami.page, noor.page, t]) {
      expect(await bodyText(page)).not.toContain("This message could not be opened");
    }
    await snap(t, "practice-encrypted-console");
    // The record panel says the session is end-to-end encrypted, and holds the words opened.
    await t.getByRole("tab", { name: "Session record" }).click();
    await t.getByTestId("encrypted").waitFor();
    expect(await t.getByTestId("not-encrypted").count()).toBe(0);
    await t.getByTestId("session-record").getByText(words).waitFor();
    await snap(t, "practice-encrypted-record");
    for (const p of [noor, sami]) {
      expect(p.errors).toEqual([]);
      await p.context.close();
    }
  });

  it("warns before a typed session with a page that sent no key, and never enters a room whose keys do not open", async () => {
    const t = therapist.page;
    await t.goto(`${url}/practice`);
    const roomLink = (await t.getByTestId("standing-link").textContent())!.trim();
    const room = decodeURIComponent(new URL(roomLink).pathname.split("/").pop()!);
    // Partners who wait through the API: one without a key (as an older page would), one with a key of its own.
    const waitByApi = async (firstName: string, publicKey?: string) => {
      const res = await fetch(`${url}/api/standing-room/wait`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${room}`,
          "content-type": "application/json",
          "x-forwarded-for": "198.51.100.23",
        },
        body: JSON.stringify({ firstName, ...(publicKey ? { publicKey } : {}) }),
      });
      expect(res.status).toBe(201);
    };
    await waitByApi("Bex");
    await waitByApi("Dov");
    await waitByApi("Cyd", (await generateWaitingKeyPair()).publicKey);
    const ana = await openPage(browser, PHONE);
    await ana.page.goto(roomLink);
    await ana.page.getByLabel("Your first name").fill("Ana");
    await ana.page.getByRole("button", { name: "I'm here" }).click();
    await ana.page.getByTestId("privacy-code").waitFor();
    // This page's kept key is swapped for another one: the keys wrapped to the key it sent will not open here.
    await ana.page.evaluate(async () => {
      const place = JSON.parse(sessionStorage.getItem("attune.waiting-ticket")!) as Record<string, unknown>;
      const other = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
        "deriveBits",
      ])) as CryptoKeyPair;
      place.privateKey = await crypto.subtle.exportKey("jwk", other.privateKey);
      sessionStorage.setItem("attune.waiting-ticket", JSON.stringify(place));
    });
    await ana.page.reload();
    await ana.page.getByTestId("privacy-code").waitFor();

    const list = t.getByTestId("waiting");
    const panel = t.locator("section.waiting-list");
    const pick = async (names: string[]) => {
      for (const name of names) await list.getByRole("checkbox", { name: new RegExp(name) }).check();
    };
    await list.getByText("Ana").waitFor();
    await list.locator("li", { hasText: "Bex" }).getByText("No encryption key from this page.").waitFor();
    await pick(["Ana", "Bex"]);
    await panel.getByRole("radio", { name: "Typing" }).check();
    expect(await panel.getByTestId("keyless-warning").textContent()).toBe(
      "Bex's waiting page can't receive encryption keys, so a typed session with them won't be end-to-end encrypted. Opening the waiting room link again in a current browser fixes this.",
    );
    await lightAndDark(t, "practice-keyless-warning");
    await t.setViewportSize(PHONE);
    await lightAndDark(t, "practice-keyless-warning-phone");
    await t.setViewportSize(LAPTOP);

    // Ana and Cyd: encrypted; Ana's page cannot open its keys, says so, and stays out of the room.
    await list.getByRole("checkbox", { name: /Bex/ }).uncheck();
    await pick(["Cyd"]);
    expect(await panel.getByTestId("keyless-warning").count()).toBe(0);
    await panel.getByRole("button", { name: "Start a session", exact: true }).click();
    await t.getByText("Ana and Cyd are in their session").waitFor();
    await ana.page
      .getByRole("alert")
      .getByText(
        "Your session has started, but this page couldn't open the keys that keep it private, so it hasn't taken you in. Please let Dr Rivera know, then add your name below to wait again.",
      )
      .waitFor();
    expect(ana.page.url()).toBe(`${url}/waiting`);
    expect(await ana.page.evaluate(() => Object.keys(sessionStorage).filter((k) => /pending|keys\./.test(k)))).toEqual(
      [],
    );
    await lightAndDark(ana.page, "practice-partner-keys-problem");
    expect(await seriousAxeViolations(ana.page)).toEqual([]);
    expect(ana.errors).toEqual([]);
    await ana.context.close();

    // Bex and Dov, both without keys: the typed session starts unencrypted, and the console says so.
    await pick(["Bex", "Dov"]);
    await panel.getByTestId("keyless-warning").waitFor();
    await panel.getByRole("button", { name: "Start a session", exact: true }).click();
    expect(await panel.getByTestId("started-unencrypted").textContent()).toBe(
      "Bex and Dov's waiting pages couldn't receive encryption keys, so this typed session is not end-to-end encrypted.",
    );
    await lightAndDark(t, "practice-started-unencrypted");
  });

  it("starts a session with links from the practice, with the chosen library exercise and its name in the waiting room", async () => {
    const t = therapist.page;
    await t.goto(`${url}/practice`);
    const panel = t.locator("section.start-with-links");
    await panel.getByRole("heading", { name: "Start a session with links" }).waitFor();
    await panel.getByLabel("First partner's first name (optional)").fill("Ines");
    await panel.getByLabel("Second partner's first name (optional)").fill("Tomas");
    await panel.getByRole("radio", { name: "Typing" }).check();
    await panel.getByRole("checkbox", { name: GRATITUDE_TWO.title }).uncheck();
    await lightAndDark(t, "practice-with-links");
    await panel.getByRole("button", { name: "Start a session with links" }).click();
    const linkA = await panel.getByTestId("link-a").inputValue();
    // Typed, so end-to-end encrypted: Ines's link carries the conversation key and her own private key only.
    expect(linkA).toMatch(/#k=[A-Za-z0-9_-]{43}&pa=[A-Za-z0-9_-]{43}$/);
    expect(await panel.textContent()).toContain("Ines's link");
    expect(await seriousAxeViolations(t)).toEqual([]);
    await t.setViewportSize(PHONE);
    await lightAndDark(t, "practice-with-links-phone");
    await t.setViewportSize(LAPTOP);
    const partner = await openPage(browser, PHONE);
    await partner.page.goto(linkA);
    await partner.page.getByText("Dr Rivera will let you in shortly.").waitFor();
    expect(partner.errors).toEqual([]);
    await partner.context.close();
    await panel.getByRole("link", { name: "Open my console here" }).click();
    await t.getByRole("heading", { name: "Therapist console" }).waitFor();
    await expect.poll(() => t.getByTestId("status-a").textContent()).toBe("waiting");
    // The names were sealed in this browser; the console opens them.
    await t.getByText("Ines", { exact: false }).first().waitFor();
    const agenda = (await t.getByRole("list", { name: "Agenda" }).textContent()) ?? "";
    expect(agenda).toContain(GRATITUDE_MINUTE.title);
    expect(agenda).not.toContain(GRATITUDE_TWO.title);
  });

  it("names the therapist in the partner's waiting room when they gave their name at creation", async () => {
    const t = therapist.page;
    await t.goto(`${url}/`);
    await t.getByLabel("With our therapist").check();
    await t.getByLabel("First partner").fill("Robin");
    await t.getByLabel("Second partner").fill("Kai");
    await t.getByLabel("Your name, as the couple will see it (optional)").fill("Dr Ana Rivera");
    await t.getByLabel("Practice key (if your service gave you one)").fill(KEY);
    await lightAndDark(t, "create-with-therapist-name");
    await t.getByRole("button", { name: "Start a session" }).click();
    const link = await t.getByLabel("Robin's link", { exact: true }).inputValue();
    const partner = await openPage(browser, PHONE);
    await partner.page.goto(link);
    await partner.page.getByRole("heading", { name: "You're in the waiting room" }).waitFor();
    await partner.page.getByText("Dr Ana Rivera will let you in shortly.").waitFor();
    // Nothing else of the session: not the other partner's name.
    expect(await bodyText(partner.page)).not.toContain("Kai");
    expect(await seriousAxeViolations(partner.page)).toEqual([]);
    await lightAndDark(partner.page, "partner-waiting-named");
    expect(partner.errors).toEqual([]);
    await partner.context.close();
  });
});
