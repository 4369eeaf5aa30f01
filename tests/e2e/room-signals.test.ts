/**
 * Small things in the room that keep a person from losing their place, in Chromium on two 390x844 phones: the tab
 * title says when it is your turn (and only yours); a half-typed answer survives a reload at its step and is gone once
 * sent; a sentence starter goes into the text box without a literal "...", with the caret in the box at its end; a
 * therapist's quiet note folds away once "Got it" is tapped, and stays folded after a reload; so does the therapist's message to both, for the partner who read it. Screenshots in test-output/e2e/room-signals/.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Participant } from "../../client/headless/participant.ts";
import type { RunningAttune } from "../../server/app.ts";
import type { CreateSessionRequest } from "../../shared/protocol.ts";
import {
  chromiumAvailable,
  type Couple,
  openCouple,
  screenshot,
  seriousAxeViolations,
  startBrowserSuite,
  type TestPage,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { makeMove, shownVersion, waitForVersion } from "./driver.ts";

const SUITE = "room-signals";
const runs = requireService("chromium", chromiumAvailable());
const PHONE = { width: 390, height: 844 } as const;
const SLOW = 120_000;

async function atStep(page: Page, id: string, yourMove?: boolean): Promise<void> {
  const mine = yourMove === undefined ? "" : `[data-your-move="${yourMove}"]`;
  await page.locator(`section.step[data-step-id="${id}"]${mine}`).waitFor();
}

/** What the focused element is, and where its caret sits. */
async function focusState(
  page: Page,
): Promise<{ tag: string | undefined; start: number; end: number; length: number }> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLTextAreaElement | null;
    return {
      tag: el?.tagName,
      start: el?.selectionStart ?? -1,
      end: el?.selectionEnd ?? -1,
      length: el?.value?.length ?? -1,
    };
  });
}

describe.runIf(runs)("signals and drafts in the room", () => {
  let server: RunningAttune;
  let browser: Browser;
  const opened: TestPage[] = [];

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
  });

  afterAll(async () => {
    for (const p of opened) {
      expect(p.errors).toEqual([]);
      await p.context.close();
    }
    await browser?.close();
  });

  /** Maya and Jordan on their phones in a session with this agenda (the pages are checked and closed after all). */
  async function phones(
    session: Pick<CreateSessionRequest, "agenda"> & Partial<CreateSessionRequest>,
  ): Promise<Couple> {
    return openCouple(browser, server.url, session, { viewport: PHONE, track: opened });
  }

  it(
    "the tab title follows the turn; a starter goes in cleanly with the caret in the box; drafts survive a reload per step",
    async () => {
      const { maya, jordan } = await phones({ agenda: ["intentional-dialogue"] });
      // Nobody's turn in the lobby.
      expect(await maya.page.title()).toBe("Attune");
      expect(await jordan.page.title()).toBe("Attune");

      await maya.page.getByRole("button", { name: "Start Intentional dialogue" }).click();
      await atStep(maya.page, "invite", true);
      await atStep(jordan.page, "invite", false);
      await expect.poll(() => maya.page.title()).toBe("Your turn: Invite · Attune");
      expect(await jordan.page.title()).toBe("Attune");

      // A sentence starter: the words without the "...", a space to go on, the caret at the end, in the box.
      const box = maya.page.getByLabel("Your words");
      await maya.page.getByRole("button", { name: "I'd like to talk about ...", exact: true }).click();
      await expect.poll(() => box.inputValue()).toBe("I'd like to talk about ");
      await expect.poll(async () => (await focusState(maya.page)).tag).toBe("TEXTAREA");
      let caret = await focusState(maya.page);
      expect([caret.start, caret.end]).toEqual([caret.length, caret.length]);
      // Typing goes on right after the starter.
      await maya.page.keyboard.type("the weekend plans");
      expect(await box.inputValue()).toBe("I'd like to talk about the weekend plans");
      // A second starter joins after what is there, with one space and no dots.
      await maya.page.getByRole("button", { name: "Is now a good time for us?", exact: true }).click();
      await expect
        .poll(() => box.inputValue())
        .toBe("I'd like to talk about the weekend plans Is now a good time for us? ");
      caret = await focusState(maya.page);
      expect(caret.tag).toBe("TEXTAREA");
      expect([caret.start, caret.end]).toEqual([caret.length, caret.length]);
      expect(await box.inputValue()).not.toMatch(/\.\.\.|…/);
      await screenshot(maya.page, SUITE, "01-starters-maya");
      expect(await seriousAxeViolations(maya.page)).toEqual([]);

      // Not sent yet: a reload keeps the draft at this step.
      const draft = await box.inputValue();
      await maya.page.reload();
      await atStep(maya.page, "invite", true);
      await expect.poll(() => maya.page.getByLabel("Your words").inputValue()).toBe(draft);
      expect(await maya.page.title()).toBe("Your turn: Invite · Attune");
      await screenshot(maya.page, SUITE, "02-draft-after-reload-maya");

      // Sent: the draft is gone from the box and from the tab's storage; the turn (and the title) passes to Jordan.
      await makeMove(maya.page, { text: draft });
      await atStep(jordan.page, "ready", true);
      await expect.poll(() => jordan.page.title()).toMatch(/^Your turn: .+ · Attune$/);
      await expect.poll(() => maya.page.title()).toBe("Attune");
      const stored = await maya.page.evaluate(() =>
        Object.keys(sessionStorage)
          .filter((k) => k.startsWith("attune:draft:"))
          .map((k) => sessionStorage.getItem(k)),
      );
      expect(stored).not.toContain(draft);
      await screenshot(jordan.page, SUITE, "03-your-turn-jordan");

      // Jordan says now is good; Maya's next say step starts empty, and its own draft survives a reload too.
      await makeMove(jordan.page, {});
      await maya.page.locator('section.step[data-step-kind="say"][data-your-move="true"]').waitFor();
      const stepId = await maya.page.locator("section.step").getAttribute("data-step-id");
      expect(stepId).not.toBe("invite");
      expect(await maya.page.getByLabel("Your words").inputValue()).toBe("");
      await maya.page.getByLabel("Your words").fill("I feel unsure when plans change late");
      await maya.page.reload();
      await atStep(maya.page, stepId!, true);
      await expect
        .poll(() => maya.page.getByLabel("Your words").inputValue())
        .toBe("I feel unsure when plans change late");
      // The other phone never held Maya's unsent words.
      expect(await jordan.page.locator("body").textContent()).not.toContain("plans change late");
      await screenshot(maya.page, SUITE, "04-next-step-draft-maya");
    },
    SLOW,
  );

  it(
    "a therapist's quiet note folds away once it is read, and reaches only the partner it is for",
    async () => {
      const { maya, jordan, links } = await phones({ mode: "therapist", agenda: ["intentional-dialogue"] });
      const therapist = await Participant.join(links.therapist!);
      try {
        await therapist.send({ type: "admit", partners: ["a", "b"] });
        const started = await therapist.send({ type: "start-exercise", firstSpeaker: "a" });
        if (!started.ok) throw new Error(`start refused: ${started.error.code}`);
        for (const p of [maya, jordan]) await atStep(p.page, "invite");
        const first = await therapist.send({ type: "nudge", to: "a", text: "Take a breath before you begin" });
        const second = await therapist.send({ type: "nudge", to: "a", text: "Start with one small thing" });
        if (!first.ok || !second.ok) throw new Error("nudge refused");
        await waitForVersion(maya.page, second.version);
        await waitForVersion(jordan.page, second.version);
        const notes = maya.page.locator(".nudge");
        await expect.poll(() => notes.count()).toBe(2);
        expect(await jordan.page.locator(".nudge").count()).toBe(0);
        expect(await jordan.page.locator("body").textContent()).not.toContain("Take a breath");
        await screenshot(maya.page, SUITE, "05-two-notes-maya");
        for (const scheme of ["light", "dark"] as const) {
          await maya.page.emulateMedia({ colorScheme: scheme });
          expect(await seriousAxeViolations(maya.page), scheme).toEqual([]);
        }
        await maya.page.emulateMedia({ colorScheme: "light" });

        // "Got it" on the first: it folds away, the other stays.
        await notes.filter({ hasText: "Take a breath" }).getByRole("button", { name: "Got it" }).click();
        await expect.poll(() => notes.count()).toBe(1);
        expect(await notes.first().textContent()).toContain("Start with one small thing");
        expect(await maya.page.getByText("Take a breath before you begin").count()).toBe(0);
        // A reload does not bring it back; the tab remembers which note was dismissed, never its words.
        await maya.page.reload();
        await atStep(maya.page, "invite", true);
        await waitForVersion(maya.page, second.version);
        await expect.poll(() => notes.count()).toBe(1);
        expect(await notes.first().textContent()).toContain("Start with one small thing");
        const remembered = await maya.page.evaluate(() =>
          Object.keys(sessionStorage)
            .filter((k) => k.startsWith("attune:dismissed:"))
            .map((k) => sessionStorage.getItem(k) ?? ""),
        );
        expect(remembered).toEqual([JSON.stringify([first.version])]);
        // Coming back counts as presence in the session; nothing else happens from here on.
        const rejoined = await shownVersion(maya.page);
        await notes.getByRole("button", { name: "Got it" }).click();
        await expect.poll(() => maya.page.locator(".nudges").count()).toBe(0);
        // The room goes on where it was: the step is still there, and still Maya's.
        expect(await maya.page.locator('section.step[data-step-id="invite"][data-your-move="true"]').count()).toBe(1);
        expect(await shownVersion(maya.page)).toBe(rejoined);
        await screenshot(maya.page, SUITE, "06-notes-folded-maya");
        await maya.page.reload();
        await atStep(maya.page, "invite", true);
        await waitForVersion(maya.page, second.version);
        expect(await maya.page.locator(".nudge").count()).toBe(0);
      } finally {
        therapist.close();
      }
    },
    SLOW,
  );

  it(
    "the therapist's message to both looks the same in the banner as in the conversation, and folds away once read",
    async () => {
      const { maya, jordan, links } = await phones({ mode: "therapist", agenda: ["intentional-dialogue"] });
      const therapist = await Participant.join(links.therapist!);
      try {
        await therapist.send({ type: "admit", partners: ["a", "b"] });
        // Before the exercise the message lands in the banner; during it, in the conversation.
        const before = await therapist.send({ type: "message-both", text: "Welcome, both of you" });
        if (!before.ok) throw new Error("message refused");
        const started = await therapist.send({ type: "start-exercise", firstSpeaker: "a" });
        if (!started.ok) throw new Error(`start refused: ${started.error.code}`);
        const during = await therapist.send({ type: "message-both", text: "Go slowly" });
        if (!during.ok) throw new Error("message refused");
        for (const [who, p] of [
          ["maya", maya],
          ["jordan", jordan],
        ] as const) {
          await waitForVersion(p.page, during.version);
          const banner = p.page.locator(".therapist-messages .message");
          const entry = p.page.locator(".transcript .entry.message");
          await expect.poll(() => banner.count()).toBe(1);
          await expect.poll(() => entry.count()).toBe(1);
          expect(await banner.locator("p").textContent()).toBe("Your therapist, to you both: Welcome, both of you");
          expect(await entry.textContent()).toBe("Your therapist, to you both: Go slowly");
          for (const scheme of ["light", "dark"] as const) {
            await p.page.emulateMedia({ colorScheme: scheme });
            const look = (selector: string) =>
              p.page.locator(selector).evaluate((el) => {
                const css = getComputedStyle(el);
                const who = getComputedStyle(el.querySelector(".who")!);
                return {
                  edge: `${css.borderLeftWidth} ${css.borderLeftStyle} ${css.borderLeftColor}`,
                  background: css.backgroundColor,
                  who: `${who.color} ${who.fontWeight}`,
                };
              });
            const bannerLook = await look(".therapist-messages .message");
            // The therapist's own colour, a visible edge, and the same look as the conversation's entry.
            expect(bannerLook.edge, `${who} ${scheme}`).toMatch(/^4px solid /);
            expect(bannerLook, `${who} ${scheme}`).toEqual(await look(".transcript .entry.message"));
            await screenshot(p.page, SUITE, `07-message-to-both-${who}-${scheme}`);
            expect(await seriousAxeViolations(p.page), `${who} ${scheme}`).toEqual([]);
          }
          await p.page.emulateMedia({ colorScheme: "light" });
        }

        // Maya reads the banner and taps "Got it": it folds away for her only; the conversation keeps its entry.
        const mayaBanner = maya.page.locator(".therapist-messages .message");
        await mayaBanner.getByRole("button", { name: "Got it" }).click();
        await expect.poll(() => maya.page.locator(".therapist-messages").count()).toBe(0);
        expect(await maya.page.locator(".transcript .entry.message").count()).toBe(1);
        expect(await jordan.page.locator(".therapist-messages .message").count()).toBe(1);
        await screenshot(maya.page, SUITE, "08-message-folded-maya");
        // A reload does not bring it back; the tab keeps the message's id (per session and seat), never its words.
        await maya.page.reload();
        await atStep(maya.page, "invite");
        await waitForVersion(maya.page, during.version);
        expect(await maya.page.locator(".therapist-messages").count()).toBe(0);
        const remembered = await maya.page.evaluate(() =>
          Object.entries(sessionStorage).filter(([k]) => k.startsWith("attune:dismissed:")),
        );
        expect(remembered).toEqual([[expect.stringMatching(/:a:messages$/), JSON.stringify([before.version])]]);
        expect(JSON.stringify(remembered)).not.toContain("Welcome");
        // Jordan's phone never shared Maya's choice.
        await jordan.page.reload();
        await atStep(jordan.page, "invite");
        await waitForVersion(jordan.page, during.version);
        expect(await jordan.page.locator(".therapist-messages .message").count()).toBe(1);
      } finally {
        therapist.close();
      }
    },
    SLOW,
  );
});
