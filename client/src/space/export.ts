/**
 * Taking a space away: a readable Markdown file, a JSON file of everything decrypted, and an iCalendar (.ics)
 * event for a planned time. Pure functions (no DOM), so they are tested on their own and in the browser.
 */
import type { Partner } from "../../../shared/protocol.ts";
import type { SpaceSummary } from "../../headless/space.ts";

const HAPPENED: Record<string, string> = { yes: "yes", partly: "partly", no: "not yet" };

export function formatDate(ms: number): string {
  return new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
}

export function formatWhen(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString("en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    hour: "2-digit",
    minute: "2-digit",
  });
}

/** Markdown has few special characters in running text; escape the ones that would change the meaning. */
function md(text: string): string {
  return text.replace(/([\\`*_[\]<>#|])/g, "\\$1").replace(/\n+/g, " ");
}

/** The whole space as a readable Markdown document (what each partner may see: sealed answers stay out). */
export function spaceToMarkdown(summary: SpaceSummary, you: Partner, exportedAt = Date.now()): string {
  const { names } = summary;
  const out: string[] = [];
  out.push(`# Our space — ${md(names.a)} & ${md(names.b)}`, "");
  out.push(`Exported by ${md(names[you])} on ${formatDate(exportedAt)}.`, "");
  out.push("## Sessions kept", "");
  if (summary.sessions.length === 0) out.push("No session kept yet.", "");
  for (const [i, { content: s }] of summary.sessions.entries()) {
    out.push(`### Session ${i + 1} — ${formatDate(s.date)}`, "");
    if (s.exercises.length > 0) out.push(`Exercises: ${s.exercises.map(md).join(", ")}.`, "");
    out.push("| | Check-in before | Check-in after | How heard (1–10) | Word |", "|---|---|---|---|---|");
    for (const p of ["a", "b"] as const) {
      const r = s.partners[p];
      const cell = (c?: { rating?: number; feeling?: string }) =>
        c
          ? [c.rating !== undefined ? String(c.rating) : "", c.feeling ? md(c.feeling) : ""].filter(Boolean).join(", ")
          : "—";
      out.push(
        `| ${md(names[p])} | ${cell(r.before)} | ${cell(r.after)} | ${r.heard} | ${r.word ? md(r.word) : "—"} |`,
      );
    }
    out.push("");
    if (s.agreements.length > 0) {
      out.push("Agreements:", "");
      for (const a of s.agreements) {
        const status = summary.agreements.find((x) => x.agreement.ref === a.ref);
        const parts = [
          a.what ? md(a.what) : md(a.exercise),
          a.picked ? `(${md(a.picked)})` : "",
          a.when ? `— ${formatWhen(a.when)}` : "",
        ];
        let line = `- ${parts.filter(Boolean).join(" ")}`;
        if (status?.yours) line += ` — did it happen? ${md(names[you])}: ${HAPPENED[status.yours]}`;
        if (status?.theirs) line += `; ${md(names[you === "a" ? "b" : "a"])}: ${HAPPENED[status.theirs]}`;
        out.push(line);
      }
      out.push("");
    }
    if (s.lines.length > 0) {
      out.push("Lines you both chose to keep:", "");
      for (const l of s.lines)
        out.push(`> **${l.by === "therapist" ? "Therapist" : md(names[l.by])}:** ${md(l.text)}`, ">");
      out.pop();
      out.push("");
    }
  }
  if (summary.plans.length > 0) {
    out.push("## Planned", "");
    for (const p of summary.plans) out.push(`- ${md(p.title)} — ${formatWhen(p.when)} (${p.minutes} minutes)`);
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}

/** Everything decrypted, for keeping or moving elsewhere. */
export function spaceToJson(summary: SpaceSummary, you: Partner, exportedAt = Date.now()): string {
  return `${JSON.stringify(
    {
      format: "attune-space/1",
      exportedAt: new Date(exportedAt).toISOString(),
      exportedBy: you,
      names: summary.names,
      sessions: summary.sessions.map((s) => s.content),
      answers: summary.agreements
        .filter((a) => a.yours || a.theirs)
        .map((a) => ({ ref: a.agreement.ref, [you]: a.yours, [you === "a" ? "b" : "a"]: a.theirs })),
      plans: summary.plans,
    },
    null,
    2,
  )}\n`;
}

/** RFC 5545 text escaping: backslash, semicolon, comma, newline. */
export function icsEscape(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/;/g, "\\;").replace(/,/g, "\\,").replace(/\r?\n/g, "\\n");
}

/** A UTC date-time in iCalendar's basic format (20260110T180000Z). */
export function icsTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

/** Folds a content line at 75 octets (RFC 5545 3.1), continuation lines starting with a space. */
function fold(line: string): string {
  const bytes = new TextEncoder().encode(line);
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let current = "";
  let size = 0;
  for (const ch of line) {
    const n = new TextEncoder().encode(ch).length;
    if (size + n > (parts.length === 0 ? 75 : 74)) {
      parts.push(current);
      current = "";
      size = 0;
    }
    current += ch;
    size += n;
  }
  parts.push(current);
  return parts.join("\r\n ");
}

export interface CalendarEvent {
  /** A stable unique id (e.g. the entry id), so importing twice updates rather than duplicates. */
  uid: string;
  title: string;
  description?: string;
  start: number;
  minutes: number;
}

/** One VEVENT in a VCALENDAR, CRLF line endings, escaped text, DTSTAMP and UID, times in UTC. */
export function toIcs(event: CalendarEvent, now = Date.now()): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Attune//Our space//EN",
    "CALSCALE:GREGORIAN",
    "METHOD:PUBLISH",
    "BEGIN:VEVENT",
    `UID:${event.uid}@attune`,
    `DTSTAMP:${icsTime(now)}`,
    `DTSTART:${icsTime(event.start)}`,
    `DTEND:${icsTime(event.start + event.minutes * 60_000)}`,
    `SUMMARY:${icsEscape(event.title)}`,
    ...(event.description ? [`DESCRIPTION:${icsEscape(event.description)}`] : []),
    "END:VEVENT",
    "END:VCALENDAR",
  ];
  return `${lines.map(fold).join("\r\n")}\r\n`;
}

/** Offers `text` as a file download. */
export function download(filename: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
