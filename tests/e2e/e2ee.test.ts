/**
 * End-to-end encryption in Chromium: two partners' browsers play an encrypted check-in and the start of an
 * intentional dialogue, each reading the other's words on screen, while every frame each page sends is searched for
 * those words (none may be there). A link opened without its key shows the missing-key message and sends nothing;
 * its screenshots at 390x844, light and dark, land in test-output/e2e/e2ee. An encrypted plan-time shows the ideas
 * opened on the pick step and the picked one in the agreement and the summary, with no idea in any frame sent.
 * (tests/e2e/dialogue.test.ts plays the whole typed dialogue from the home page encrypted, and
 * tests/e2e/therapist.test.ts the therapist session with nudges, notes and a step-out.)
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import { MISSING_KEY_TEXT } from "../../shared/session-crypto.ts";
import {
  chromiumAvailable,
  numberedScreenshots,
  openPage,
  openPhone,
  startBrowserSuite,
  type SocketTap,
  type TestPage,
  tapSocket,
} from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { createEncryptedTestSession } from "../support/server.ts";
import { atStep, clickAndWait, localIn, makeMove, shownVersion, waitForVersion } from "./driver.ts";

const SUITE = "e2ee";
const runs = requireService("chromium", chromiumAvailable());

describe.runIf(runs)("end-to-end encrypted session in two browsers", () => {
  let server: RunningAttune;
  let browser: Browser;
  let ada: TestPage;
  let bo: TestPage;
  let tapAda: SocketTap;
  let tapBo: SocketTap;
  const snap = numberedScreenshots(SUITE);
  const words = ["Ada-Zephyrine", "Bo-Quillfeather", "lantern-of-Ostrava", "marmalade-Tuesdays", "the-Vyborg-letter"];

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
    ada = await openPhone(browser);
    bo = await openPhone(browser);
    tapAda = await tapSocket(ada.page);
    tapBo = await tapSocket(bo.page);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("plays an encrypted check-in and dialogue, reading every word on screen; no frame carries one", async () => {
    const created = await createEncryptedTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["check-in", "intentional-dialogue"],
      names: { a: words[0]!, b: words[1]! },
    });
    await ada.page.goto(created.links.a);
    await bo.page.goto(created.links.b);
    for (const p of [ada, bo]) await p.page.getByRole("heading", { name: /Welcome/ }).waitFor();
    // The names were sealed before they left the test (as the home page does); each page opens them.
    await ada.page.getByText(`${words[1]} · here`).waitFor();
    await bo.page.getByText(`${words[1]} (you) · here`).waitFor();

    await ada.page.getByRole("button", { name: "Start Emotional check-in" }).click();
    await bo.page.locator(".turn-banner .headline", { hasText: "How are you right now?" }).waitFor();
    await makeMove(ada.page, { answer: { rating: 7, feeling: "hopeful", note: words[2] } });
    const v = await makeMove(bo.page, { answer: { rating: 4, feeling: "tired", note: words[3] } });
    await waitForVersion(ada.page, v);
    for (const page of [ada.page, bo.page]) {
      const reveal = page.locator("[data-testid=check-in-reveal]");
      await reveal.waitFor();
      expect(await reveal.textContent()).toContain(words[2]);
      expect(await reveal.textContent()).toContain(words[3]);
    }
    await snap(bo.page, "check-in-reveal-opened");

    await ada.page.getByRole("button", { name: "Start Intentional dialogue" }).click();
    await ada.page.locator("section.step[data-step-id=invite]").waitFor();
    const w = await makeMove(ada.page, { text: `Can we talk about ${words[4]}?` });
    await waitForVersion(bo.page, w);
    await bo.page.getByText(`Can we talk about ${words[4]}?`).first().waitFor();
    await snap(bo.page, "dialogue-opened");
    expect(await bo.page.getByText("could not be opened").count()).toBe(0);

    const sent = [...tapAda.sent, ...tapBo.sent].join("\n");
    expect(sent).toMatch(/e1\.[A-Za-z0-9_-]{16}\./);
    expect(words.filter((word) => sent.includes(word))).toEqual([]);
  });

  it("plays an encrypted plan-time: ideas opened on the pick step, the picked one in the agreement and summary", async () => {
    const ideas = ["kayak-to-Ullapool", "fondue-at-Grindelwald", "tango-in-Rosario"];
    const detail = "bring-the-Lisbon-blanket";
    const created = await createEncryptedTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["plan-time"],
      names: { a: "Ada", b: "Bo" },
    });
    await ada.page.goto(created.links.a);
    await bo.page.goto(created.links.b);
    for (const p of [ada, bo]) await p.page.getByRole("heading", { name: /Welcome/ }).waitFor();
    await ada.page.getByRole("button", { name: "Start Plan time together" }).click();
    for (const p of [ada, bo]) await atStep(p.page, "ideas");
    await ada.page.getByLabel("Idea 1").fill(ideas[0]!);
    await ada.page.getByLabel(/Idea 2/).fill(ideas[1]!);
    await clickAndWait(ada.page, "Share privately");
    // Ada reads her own list back; Bo sees nothing of it yet.
    await ada.page.getByText(ideas[1]!).waitFor();
    await waitForVersion(bo.page, await shownVersion(ada.page));
    expect(await bo.page.locator("body").textContent()).not.toContain(ideas[0]);
    await bo.page.getByLabel("Idea 1").fill(ideas[2]!);
    await clickAndWait(bo.page, "Share privately");

    for (const p of [ada, bo]) {
      await atStep(p.page, "pick");
      const list = p.page.locator(".idea-list");
      for (const idea of ideas) await list.getByText(idea).waitFor();
    }
    await snap(bo.page, "plan-pick-opened");
    await clickAndWait(ada.page, new RegExp(ideas[2]!));
    await bo.page.getByText(`Ada picked “${ideas[2]}”`).waitFor();
    await clickAndWait(bo.page, new RegExp(ideas[2]!));

    for (const p of [ada, bo]) await p.page.getByText(`About: ${ideas[2]}`).waitFor();
    await ada.page.getByLabel("Day and time", { exact: true }).fill(localIn(26));
    await ada.page.getByLabel("A detail, if it helps").fill(detail);
    await clickAndWait(ada.page, "Suggest this");
    await bo.page.getByTestId("agreement-offer").getByText(detail).waitFor();
    await clickAndWait(bo.page, "Agree");
    for (const p of [ada, bo]) {
      await atStep(p.page, "look-forward");
      await p.page.getByLabel("Your words").fill("the quiet of it");
      await clickAndWait(p.page, "Send");
    }
    for (const p of [ada, bo]) {
      const kept = p.page.getByTestId("agreements");
      await kept.getByText(ideas[2]!).waitFor();
      await kept.getByText(detail).waitFor();
    }
    await ada.page.getByRole("button", { name: "End session" }).click();
    await ada.page.getByRole("button", { name: "Yes, end session" }).click();
    const summary = ada.page.getByTestId("summary");
    await summary.getByTestId("agreements").getByText(ideas[2]!).waitFor();
    await snap(ada.page, "plan-summary-opened");
    for (const p of [ada, bo]) expect(await p.page.getByText("could not be opened").count()).toBe(0);

    const sent = [...tapAda.sent, ...tapBo.sent].join("\n");
    expect([...ideas, detail].filter((word) => sent.includes(word))).toEqual([]);
  });

  it("a link opened without its key says so, shows no words and no composer, and opens once the whole link is pasted (390x844, light and dark)", async () => {
    const created = await createEncryptedTestSession(server.url, {
      mode: "guided",
      channel: "typed",
      agenda: ["intentional-dialogue"],
      names: { a: "Noor", b: "Iris" },
    });
    const keyed = await openPhone(browser);
    await keyed.page.goto(created.links.b);
    await keyed.page.getByRole("button", { name: "Start Intentional dialogue" }).click();
    await keyed.page.locator("section.step[data-step-id=invite]").waitFor();
    const bare = created.links.a.split("#")[0]!;
    for (const scheme of ["light", "dark"] as const) {
      const phone = await openPage(browser, { width: 390, height: 844 });
      await phone.page.emulateMedia({ colorScheme: scheme });
      const tap = await tapSocket(phone.page);
      await phone.page.goto(bare);
      const notice = phone.page.locator("[data-testid=key-missing]");
      await notice.waitFor();
      expect(await notice.getByRole("heading").textContent()).toBe(MISSING_KEY_TEXT);
      // The names stay sealed: the page shows no ciphertext and no name, and there is nowhere to type words.
      const text = (await phone.page.locator("body").textContent()) ?? "";
      expect(text).not.toMatch(/e1\.[A-Za-z0-9_-]{16}\./);
      expect(text).not.toContain("Noor");
      expect(await phone.page.locator("section.step").count()).toBe(0);
      expect(await phone.page.getByRole("textbox", { name: "Your words" }).count()).toBe(0);
      expect(await phone.page.getByRole("button", { name: "Send", exact: true }).count()).toBe(0);
      await snap(phone.page, `missing-key-390-${scheme}`);
      if (scheme === "light") {
        const field = notice.getByLabel("paste all of it here");
        const openIt = notice.getByRole("button", { name: "Open the whole link" });
        // The same link cut at its "#" again: the notice says what is missing, and the page stays.
        await field.fill(bare);
        await openIt.click();
        await notice.locator(".action-error", { hasText: "stops before its key" }).waitFor();
        await field.fill("not a link at all");
        await openIt.click();
        await notice.locator(".action-error", { hasText: "doesn't look like a link" }).waitFor();
        await snap(phone.page, "missing-key-390-paste-problem");
        await phone.page.setViewportSize({ width: 1280, height: 800 });
        await snap(phone.page, "missing-key-1280-paste-problem");
        await phone.page.setViewportSize({ width: 390, height: 844 });
        // The whole link opens the room: the names and the step read as they should.
        await field.fill(created.links.a);
        await openIt.click();
        await phone.page.locator("section.step[data-step-id=invite]").waitFor();
        expect(await phone.page.locator("[data-testid=key-missing]").count()).toBe(0);
        await phone.page.getByText("Iris", { exact: false }).first().waitFor();
        expect(new URL(phone.page.url()).hash).toBe("");
        expect(tap.sent.join("\n")).not.toMatch(/k=/);
      }
      await phone.page.close();
    }
  });
});
