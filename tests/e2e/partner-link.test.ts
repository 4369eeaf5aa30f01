/**
 * The therapist gives a partner a new link, in an end-to-end encrypted session in Chromium: the partner's old link
 * stops at once, the new one shown in the console carries that partner's keys (and only theirs), and opening it puts
 * the partner back in the room reading the sealed names. Screenshots (1280x800 and 390x844, light and dark) land in
 * test-output/e2e/partner-link.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningAttune } from "../../server/app.ts";
import { chromiumAvailable, numberedScreenshots, openPage, startBrowserSuite, tapSocket } from "../support/browser.ts";
import { requireService } from "../support/env.ts";
import { createEncryptedTestSession } from "../support/server.ts";

const SUITE = "partner-link";
const runs = requireService("chromium", chromiumAvailable());

describe.runIf(runs)("a new link for a partner, made in the therapist's console", () => {
  let server: RunningAttune;
  let browser: Browser;
  const snap = numberedScreenshots(SUITE);

  beforeAll(async () => {
    ({ server, browser } = await startBrowserSuite(SUITE));
  });

  afterAll(async () => {
    await browser?.close();
  });

  for (const scheme of ["light", "dark"] as const) {
    it(`switches off Noor's link and hands out one that opens her seat with her keys (${scheme})`, async () => {
      const created = await createEncryptedTestSession(server.url, {
        mode: "therapist",
        channel: "typed",
        agenda: ["intentional-dialogue"],
        names: { a: "Noor", b: "Iris" },
      });
      const console_ = await openPage(browser, { width: 1280, height: 800 });
      await console_.page.emulateMedia({ colorScheme: scheme });
      const noor = await openPage(browser, { width: 390, height: 844 });
      await noor.page.emulateMedia({ colorScheme: scheme });
      await console_.page.goto(created.links.therapist!);
      await noor.page.goto(created.links.a);
      await console_.page.getByRole("button", { name: "Admit Noor" }).click();
      await noor.page.locator("[data-testid=lobby], section.lobby").first().waitFor();

      const card = console_.page.getByTestId("partner-a");
      await card.getByRole("button", { name: "New link for Noor" }).click();
      const confirm = console_.page.getByTestId("new-link-confirm-a");
      await confirm.getByText("stops working at once").waitFor();
      await snap(console_.page, `confirm-1280-${scheme}`);
      await confirm.getByRole("button", { name: "Switch it off and make a new one" }).click();

      const shown = console_.page.getByTestId("new-link-a");
      const field = shown.getByLabel("Noor's new link");
      await field.waitFor();
      const link = await field.inputValue();
      await snap(console_.page, `new-link-1280-${scheme}`);
      // Her keys and only hers: the conversation key and her own private key, never Iris's or the notes key.
      const fragment = new URLSearchParams(new URL(link).hash.slice(1));
      expect([...fragment.keys()].sort()).toEqual(["k", "pa"]);
      expect(fragment.get("k")).toBe(new URLSearchParams(new URL(created.links.a).hash.slice(1)).get("k"));
      expect(link.split("#")[0]).not.toBe(created.links.a.split("#")[0]);

      // The old link stops on the page that had it open.
      const stopped = noor.page.getByTestId("link-problem");
      await stopped.getByText("Your therapist switched this link off", { exact: false }).waitFor();
      // Not hers to start: a partner of a therapist-led session is offered no new session of her own.
      expect(await stopped.getByRole("link", { name: "Start a new session" }).count()).toBe(0);
      await snap(noor.page, `old-link-stopped-390-${scheme}`);

      // The new one opens her seat; the room reads the sealed names with the keys it carried.
      const fresh = await openPage(browser, { width: 390, height: 844 });
      await fresh.page.emulateMedia({ colorScheme: scheme });
      const tap = await tapSocket(fresh.page);
      await fresh.page.goto(link);
      await fresh.page.getByText("Iris", { exact: false }).first().waitFor();
      expect(await fresh.page.locator("[data-testid=key-missing]").count()).toBe(0);
      expect(new URL(fresh.page.url()).hash).toBe("");
      expect(tap.sent.join("\n")).not.toContain(fragment.get("k")!);
      await console_.page.getByTestId("partner-a").getByText("connected", { exact: true }).waitFor();

      await shown.getByRole("button", { name: "Done" }).click();
      expect(await console_.page.getByTestId("new-link-a").count()).toBe(0);
      for (const p of [console_, noor, fresh]) await p.page.close();
    });
  }
});
