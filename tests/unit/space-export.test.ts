/**
 * Taking a space away (client/src/space/export.ts): an iCalendar event written by hand must be valid RFC 5545
 * (CRLF, escaped text, UID and DTSTAMP, UTC times, folded long lines); the Markdown export reads well and escapes
 * what would change its meaning; the JSON export carries everything the partner may see.
 */
import { describe, expect, it } from "vitest";
import type { SpaceSummary } from "../../client/headless/space.ts";
import { icsEscape, spaceToJson, spaceToMarkdown, toIcs } from "../../client/src/space/export.ts";

const START = Date.UTC(2031, 4, 4, 18, 30);
const NOW = Date.UTC(2031, 0, 1, 9, 0, 5);

function unfold(ics: string): string[] {
  return ics.replace(/\r\n /g, "").split("\r\n");
}

describe("the .ics export", () => {
  it("writes one VEVENT in a VCALENDAR with CRLF lines, UID, DTSTAMP and UTC times", () => {
    const ics = toIcs({ uid: "entry-1", title: "Dinner", start: START, minutes: 90, description: "Just us" }, NOW);
    expect(ics.endsWith("\r\n")).toBe(true);
    expect(ics.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect(unfold(ics)).toEqual([
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//Attune//Our space//EN",
      "CALSCALE:GREGORIAN",
      "METHOD:PUBLISH",
      "BEGIN:VEVENT",
      "UID:entry-1@attune",
      "DTSTAMP:20310101T090005Z",
      "DTSTART:20310504T183000Z",
      "DTEND:20310504T200000Z",
      "SUMMARY:Dinner",
      "DESCRIPTION:Just us",
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ]);
  });

  it("escapes backslashes, semicolons, commas and newlines, and folds long lines at 75 octets", () => {
    expect(icsEscape("a\\b;c,d\ne")).toBe("a\\\\b\\;c\\,d\\ne");
    const title = `Walk, talk; and "ice cream" — ${"é".repeat(60)}`;
    const ics = toIcs({ uid: "u", title, start: START, minutes: 60 }, NOW);
    for (const line of ics.split("\r\n")) expect(new TextEncoder().encode(line).length).toBeLessThanOrEqual(75);
    const summary = unfold(ics).find((l) => l.startsWith("SUMMARY:"))!;
    expect(summary).toBe(`SUMMARY:${icsEscape(title)}`);
  });
});

const SUMMARY: SpaceSummary = {
  names: { a: "Robin", b: "Sam *the* [best]" },
  sessions: [
    {
      entryId: "e1",
      content: {
        date: Date.UTC(2026, 0, 10, 18),
        exercises: ["Emotional check-in", "Repair"],
        partners: {
          a: { before: { rating: 4, feeling: "tired" }, after: { rating: 7, feeling: "calm" }, heard: 6, word: "seen" },
          b: { heard: 8 },
        },
        agreements: [{ ref: "s:1", exercise: "Repair", what: "Ask before | planning", by: "a" }],
        lines: [{ by: "a", text: "I felt # heard" }],
        names: { a: "Robin", b: "Sam" },
      },
    },
  ],
  agreements: [],
  plans: [{ title: "Picnic", when: "2031-05-04T18:30:00.000Z", minutes: 60 }],
};
SUMMARY.agreements.push({
  agreement: SUMMARY.sessions[0]!.content.agreements[0]!,
  session: SUMMARY.sessions[0]!.content,
  yours: "yes",
  theirs: "partly",
  theirsSealed: false,
});

describe("the Markdown and JSON exports", () => {
  it("lists each session with a ratings table, agreements with both answers, the chosen lines and plans", () => {
    const md = spaceToMarkdown(SUMMARY, "a", NOW);
    expect(md).toMatch(/^# Our space — Robin & Sam \\\*the\\\* \\\[best\\\]\n/);
    expect(md).toContain("### Session 1 — 10 January 2026");
    expect(md).toContain("Exercises: Emotional check-in, Repair.");
    expect(md).toContain("| Robin | 4, tired | 7, calm | 6 | seen |");
    expect(md).toContain("| Sam \\*the\\* \\[best\\] | — | — | 8 | — |");
    expect(md).toContain("- Ask before \\| planning — did it happen? Robin: yes; Sam \\*the\\* \\[best\\]: partly");
    expect(md).toContain("> **Robin:** I felt \\# heard");
    expect(md).toContain("## Planned");
    expect(md.endsWith("\n")).toBe(true);
  });

  it("exports JSON with the sessions, answers, names and plans", () => {
    const json = JSON.parse(spaceToJson(SUMMARY, "b", NOW)) as Record<string, unknown>;
    expect(json).toMatchObject({
      format: "attune-space/1",
      exportedBy: "b",
      exportedAt: "2031-01-01T09:00:05.000Z",
      names: SUMMARY.names,
      sessions: [SUMMARY.sessions[0]!.content],
      answers: [{ ref: "s:1", b: "yes", a: "partly" }],
      plans: SUMMARY.plans,
    });
  });
});
