/**
 * What a scenario reports: tables of figures, and checks. An invariant must hold on any correct server (no acked
 * command lost, no crash, no refused-but-applied, no 500). An expectation is a bound issue 9 sets (0 INTERNAL for
 * legal bursts, presence healed within a bound, calm presence while a partner flaps): it is named, with its bound.
 */

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface Check {
  name: string;
  kind: "invariant" | "expectation";
  ok: boolean;
  /** What was measured, against what bound. */
  detail: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  durationMs: number;
  tables: Table[];
  checks: Check[];
  /** Machine-readable figures (the JSON report). */
  figures: Record<string, unknown>;
  notes: string[];
  /** The scenario itself could not run to the end (its harness failed); counts as a failure. */
  error?: string;
}

/** Collects a scenario's tables, checks and figures. */
export class Report {
  readonly tables: Table[] = [];
  readonly checks: Check[] = [];
  readonly figures: Record<string, unknown> = {};
  readonly notes: string[] = [];

  table(title: string, columns: string[], rows: (string | number)[][]): void {
    this.tables.push({ title, columns, rows });
  }

  invariant(name: string, ok: boolean, detail: string): void {
    this.checks.push({ name, kind: "invariant", ok, detail });
  }

  expectation(name: string, ok: boolean, detail: string): void {
    this.checks.push({ name, kind: "expectation", ok, detail });
  }

  note(text: string): void {
    this.notes.push(text);
  }
}

export function fmt(value: string | number): string {
  if (typeof value === "string") return value;
  if (Number.isNaN(value)) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** A table as aligned plain text for the terminal. */
export function textTable(t: Table): string {
  const cells = [t.columns, ...t.rows.map((r) => r.map(fmt))];
  const widths = t.columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [t.title, line(cells[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join(
    "\n",
  );
}

function mdTable(t: Table): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  return [
    `**${t.title}**`,
    "",
    `| ${t.columns.map(esc).join(" | ")} |`,
    `|${t.columns.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...t.rows.map((r) => `| ${r.map((c) => esc(fmt(c))).join(" | ")} |`),
  ].join("\n");
}

export function checkLine(c: Check): string {
  const mark = c.ok ? "ok  " : c.kind === "invariant" ? "FAIL" : "MISS";
  return `${mark} [${c.kind}] ${c.name}: ${c.detail}`;
}

/** The Markdown report of a run. */
export function markdown(header: string[], results: ScenarioResult[], verdict: string): string {
  const out: string[] = ["# Chaos run (`npm run chaos`)", "", ...header, "", `**Verdict: ${verdict}**`, ""];
  for (const r of results) {
    out.push(`## ${r.title}`, "", `Duration ${(r.durationMs / 1000).toFixed(1)} s.`, "");
    if (r.error) out.push(`**The scenario could not finish:** ${r.error}`, "");
    for (const t of r.tables) out.push(mdTable(t), "");
    if (r.checks.length > 0) {
      out.push("| check | kind | result | measured |", "|---|---|---|---|");
      for (const c of r.checks) {
        const result = c.ok ? "ok" : c.kind === "invariant" ? "**BROKEN**" : "**missed**";
        out.push(`| ${c.name} | ${c.kind} | ${result} | ${c.detail.replaceAll("|", "\\|")} |`);
      }
      out.push("");
    }
    for (const n of r.notes) out.push(`- ${n}`);
    if (r.notes.length > 0) out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
