/**
 * The session record a therapist takes away: notes, the conversation, check-ins, guesses, agreements, floor time
 * and the closing ratings, each with its time. Built in the browser from the therapist's own view (nothing is asked
 * of the server, nothing is kept there after the session expires), as a printable page and as Markdown.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Partner, SessionView, TranscriptEntry } from "../../../shared/protocol.ts";
import { clockTime, exerciseTitle, minutesSeconds, seatName } from "../room/words.ts";
import { storedSeatToken } from "../seats.ts";

/** Tells the server the record was taken (only the fact goes into its audit log, never the record). */
function noteExport(sessionId: string): void {
  const token = storedSeatToken("therapist");
  if (!token) return;
  void fetch(`/api/sessions/${encodeURIComponent(sessionId)}/record-exported`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
  }).catch(() => {});
}

export interface RecordLine {
  at?: number;
  who?: string;
  text: string;
}

export interface RecordSection {
  id: string;
  title: string;
  lines: RecordLine[];
  /** What the section says when it has nothing. */
  empty: string;
}

export interface SessionRecord {
  title: string;
  facts: { label: string; value: string }[];
  sections: RecordSection[];
}

const PARTNERS: Partner[] = ["a", "b"];

function dayAndTime(ms: number): string {
  return new Date(ms).toLocaleString([], { dateStyle: "long", timeStyle: "short" });
}

function spoken(entry: TranscriptEntry): string {
  if (entry.kind === "choice") return `chose “${entry.label ?? entry.option ?? ""}”`;
  if (entry.text !== undefined) return entry.text;
  return "(said aloud)";
}

function share(ms: number, turns: number): string {
  return `${minutesSeconds(ms)} over ${turns} turn${turns === 1 ? "" : "s"}`;
}

/** The record of the session as the therapist's view holds it at `now`. */
export function sessionRecord(view: SessionView, now: number): SessionRecord {
  const name = (p: Partner) => seatName(view, p);
  const who = (seat: TranscriptEntry["seat"]) => (seat === "therapist" ? "You (therapist)" : seatName(view, seat));
  const where = (exerciseId?: string) => (exerciseId ? exerciseTitle(view, exerciseId) : undefined);
  const firstAt = [view.transcript[0]?.at, view.notes[0]?.at, view.completed[0]?.at, view.airtime?.runs[0]?.startedAt]
    .filter((t): t is number => t !== undefined)
    .sort((x, y) => x - y)[0];
  const facts = [
    { label: "Couple", value: `${name("a")} and ${name("b")}` },
    { label: "Session", value: `${view.mode === "therapist" ? "Led by you" : "Guided"}, ${view.channel}` },
    ...(firstAt !== undefined ? [{ label: "Started", value: dayAndTime(firstAt) }] : []),
    { label: "Record taken", value: dayAndTime(now) },
    { label: "Status", value: view.phase === "ended" ? "Ended" : "In progress" },
  ];

  const exercises: RecordLine[] = view.completed.map((c) => ({
    at: c.at,
    text: `${exerciseTitle(view, c.exerciseId)}${c.endedEarly ? " (ended early)" : " (completed)"}`,
  }));
  if (view.exercise) exercises.push({ text: `${view.exercise.title} (running: ${view.exercise.step.title})` });

  const floor: RecordLine[] = [];
  const airtime = view.airtime;
  if (airtime) {
    floor.push({
      who: "Session",
      text: PARTNERS.map((p) => `${name(p)} ${share(airtime.session[p].ms, airtime.session[p].turns)}`).join("; "),
    });
    for (const run of airtime.runs) {
      floor.push({
        at: run.startedAt,
        who: exerciseTitle(view, run.exerciseId),
        text: PARTNERS.map((p) => `${name(p)} ${share(run[p].ms, run[p].turns)}`).join("; "),
      });
    }
  }

  const conversation: RecordLine[] = view.transcript.map((e) => {
    const context = where(e.exerciseId);
    return {
      at: e.at,
      who: e.kind === "message" ? "You, to both" : who(e.seat),
      text: context ? `${spoken(e)} — ${context}` : spoken(e),
    };
  });

  const checkIns: RecordLine[] = view.checkIns.flatMap((c) =>
    PARTNERS.map((p) => {
      const a = c.answers[p];
      const parts = [
        a.rating !== undefined ? `rating ${a.rating}` : null,
        a.feeling ?? null,
        a.note ? `“${a.note}”` : null,
        a.ideas?.length ? `ideas: ${a.ideas.join("; ")}` : null,
      ].filter((x): x is string => x !== null);
      return {
        at: c.at,
        who: name(p),
        text: `${parts.join(", ") || "answered"} — ${exerciseTitle(view, c.exerciseId)}`,
      };
    }),
  );

  const side = (g: { text?: string; label?: string }) => g.text ?? g.label ?? "(held in mind, said aloud)";
  const guesses: RecordLine[] = view.guesses.map((g) => ({
    at: g.at,
    who: `About ${name(g.about)}`,
    text: `${g.question ? `${g.question.text} ` : ""}${name(g.about)}: ${side(g.answer)}; ${name(g.about === "a" ? "b" : "a")} guessed: ${side(g.guess)}`,
  }));

  const agreements: RecordLine[] = view.agreements.map((a) => ({
    at: a.at,
    who: a.by === "therapist" ? "You" : name(a.by),
    text: [a.picked, a.what, a.when ? `when: ${dayAndTime(Date.parse(a.when))}` : null]
      .filter((x): x is string => Boolean(x))
      .join(" — ")
      .concat(a.acknowledgedBy ? ` (agreed by ${name(a.acknowledgedBy)})` : ""),
  }));

  const notes: RecordLine[] = view.notes.map((n) => ({ at: n.at, text: n.text }));
  const nudges: RecordLine[] = view.nudges.map((n) => ({ at: n.at, who: `To ${name(n.to)}`, text: n.text }));
  const privately: RecordLine[] = view.privateMessages.map((m) => ({
    at: m.at,
    who: m.seat === "therapist" ? `You, to ${name(m.with)}` : name(m.with),
    text: m.text,
  }));
  const heard = view.reflection?.revealed?.heard;
  const closing: RecordLine[] = heard
    ? PARTNERS.map((p) => ({
        who: name(p),
        text: `felt heard ${heard[p].heard} out of 10${heard[p].word ? ` — “${heard[p].word}”` : ""}`,
      }))
    : [];

  return {
    title: `Session record — ${name("a")} and ${name("b")}`,
    facts,
    sections: [
      { id: "notes", title: "Your private notes", lines: notes, empty: "No notes." },
      { id: "exercises", title: "Exercises", lines: exercises, empty: "No exercise was run." },
      { id: "floor", title: "Floor time", lines: floor, empty: "No one held the floor yet." },
      { id: "conversation", title: "Conversation", lines: conversation, empty: "Nothing was said in writing." },
      { id: "check-ins", title: "Check-ins", lines: checkIns, empty: "No check-ins." },
      { id: "guesses", title: "Guesses", lines: guesses, empty: "No guesses." },
      { id: "agreements", title: "Agreements", lines: agreements, empty: "No agreements." },
      { id: "nudges", title: "Nudges you sent", lines: nudges, empty: "No nudges." },
      { id: "private", title: "Private conversation (step-out)", lines: privately, empty: "No private conversation." },
      { id: "closing", title: "Closing reflection", lines: closing, empty: "Not given (or not yet revealed)." },
    ],
  };
}

/** Escapes what Markdown would read as formatting in typed words, and keeps line breaks inside a list item. */
export function markdownText(text: string): string {
  return text.replace(/([\\`*_[\]<>#|~])/g, "\\$1").replace(/\r?\n/g, "  \n  ");
}

/** The record as a Markdown document. */
export function recordMarkdown(record: SessionRecord): string {
  const out: string[] = [`# ${markdownText(record.title)}`, ""];
  for (const f of record.facts) out.push(`- **${f.label}:** ${markdownText(f.value)}`);
  for (const section of record.sections) {
    out.push("", `## ${section.title}`, "");
    if (section.lines.length === 0) out.push(`_${section.empty}_`);
    for (const line of section.lines) {
      const when = line.at !== undefined ? `${clockTime(line.at)} ` : "";
      const who = line.who ? `**${markdownText(line.who)}:** ` : "";
      out.push(`- ${when}${who}${markdownText(line.text)}`);
    }
  }
  out.push("", "_Made with Attune from the therapist's console. Keep it as you keep your clinical notes._", "");
  return out.join("\n");
}

/** A file name for the record, from the day it was taken. */
export function recordFileName(now: number): string {
  const d = new Date(now);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `attune-session-${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}.md`;
}

/** The printable record. */
export function RecordDocument({ record }: { record: SessionRecord }) {
  return (
    <article class="session-record" aria-labelledby="record-title" data-testid="session-record">
      <h3 id="record-title">{record.title}</h3>
      <dl class="record-facts">
        {record.facts.map((f) => (
          <div key={f.label}>
            <dt>{f.label}</dt>
            <dd>{f.value}</dd>
          </div>
        ))}
      </dl>
      {record.sections.map((section) => (
        <section key={section.id} class="record-section" aria-labelledby={`record-${section.id}`}>
          <h4 id={`record-${section.id}`}>{section.title}</h4>
          {section.lines.length === 0 ? (
            <p class="hint">{section.empty}</p>
          ) : (
            <ul>
              {section.lines.map((line, i) => (
                <li key={i}>
                  {line.at !== undefined && <span class="when">{clockTime(line.at)}</span>}{" "}
                  {line.who && <strong>{line.who}:</strong>} <span class="what">{line.text}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      ))}
    </article>
  );
}

/** The record tab: download as Markdown, print (or save as PDF), and the record itself below. */
export function RecordPanel({ view }: { view: SessionView }) {
  const now = Date.now();
  const record = sessionRecord(view, now);
  const markdown = recordMarkdown(record);
  const [href, setHref] = useState<string | null>(null);
  const fileName = useMemo(() => recordFileName(now), [view.version]);
  useEffect(() => {
    const url = URL.createObjectURL(new Blob([markdown], { type: "text/markdown;charset=utf-8" }));
    setHref(url);
    return () => URL.revokeObjectURL(url);
  }, [markdown]);
  return (
    <section class="console-panel record-panel" aria-labelledby="record-heading">
      <h2 id="record-heading">Session record</h2>
      <p class="hint">
        Everything you saw in this session, with times: take it away before the session expires. It is made here in your
        browser; the server keeps nothing once the session is gone.
      </p>
      {view.channel === "typed" && (
        <p class="hint" data-testid={view.encrypted ? "encrypted" : "not-encrypted"}>
          {view.encrypted
            ? "What was typed is end-to-end encrypted: the server holds it sealed, and only the browsers of this session's couple and therapist can open it."
            : "This session is not end-to-end encrypted (it was created that way, or a partner's waiting page could not receive keys): the server holds what was typed in clear until the session ends."}
        </p>
      )}
      <div class="record-actions">
        {href && (
          <a
            class="btn primary"
            href={href}
            download={fileName}
            data-testid="download-record"
            onClick={() => noteExport(view.id)}
          >
            Download as Markdown
          </a>
        )}
        <button
          type="button"
          class="btn secondary"
          onClick={() => {
            noteExport(view.id);
            window.print();
          }}
        >
          Print or save as PDF
        </button>
      </div>
      <RecordDocument record={record} />
    </section>
  );
}
