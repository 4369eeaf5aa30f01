/**
 * Progress over sessions: each partner's check-in rating (at the start of a session) and how heard they felt
 * (the closing reflection), both on 1-10, as an inline SVG line chart, with the same numbers in a table for
 * screen readers and anyone who prefers numbers. Lines differ by dash and marker shape as well as colour.
 */
import type { Partner } from "../../../shared/protocol.ts";
import type { KeptSession } from "../../headless/space.ts";

interface Series {
  key: string;
  label: string;
  partner: Partner;
  measure: "checkin" | "heard";
  values: (number | undefined)[];
}

// Drawn small and scaled up: on a phone the labels stay readable, on a laptop the chart fills the column.
const W = 400;
const H = 220;
const PAD = { left: 30, right: 14, top: 12, bottom: 30 };

function shortDate(ms: number): string {
  return new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "short" });
}

function tableDate(ms: number): string {
  return new Date(ms).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}

export function seriesOf(sessions: KeptSession[], names: Record<Partner, string>): Series[] {
  const out: Series[] = [];
  for (const p of ["a", "b"] as const) {
    out.push({
      key: `${p}-checkin`,
      label: `${names[p]}: check-in`,
      partner: p,
      measure: "checkin",
      values: sessions.map((s) => s.content.partners[p]?.before?.rating),
    });
    out.push({
      key: `${p}-heard`,
      label: `${names[p]}: how heard`,
      partner: p,
      measure: "heard",
      values: sessions.map((s) => s.content.partners[p]?.heard),
    });
  }
  return out;
}

export function ProgressChart({ sessions, names }: { sessions: KeptSession[]; names: Record<Partner, string> }) {
  if (sessions.length === 0) {
    return <p class="hint">Your progress appears here once you have kept a session.</p>;
  }
  const series = seriesOf(sessions, names);
  const n = sessions.length;
  const x = (i: number) =>
    n === 1 ? (PAD.left + W - PAD.right) / 2 : PAD.left + (i * (W - PAD.left - PAD.right)) / (n - 1);
  const y = (v: number) => PAD.top + ((10 - Math.min(10, Math.max(1, v))) * (H - PAD.top - PAD.bottom)) / 9;
  const describe = series
    .map((s) => `${s.label}: ${s.values.map((v) => (v === undefined ? "none" : String(v))).join(", ")}`)
    .join(". ");
  return (
    <figure class="progress" data-testid="progress">
      <svg
        class="progress-chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-labelledby="progress-title progress-desc"
        data-sessions={n}
      >
        <title id="progress-title">Check-in and "heard" ratings over {n === 1 ? "one session" : `${n} sessions`}</title>
        <desc id="progress-desc">{describe}</desc>
        {[1, 4, 7, 10].map((v) => (
          <g key={v} class="grid">
            <line x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text x={PAD.left - 8} y={y(v) + 4} text-anchor="end">
              {v}
            </text>
          </g>
        ))}
        {sessions.map((s, i) => (
          <text key={s.entryId} class="axis" x={x(i)} y={H - 12} text-anchor="middle">
            {shortDate(s.content.date)}
          </text>
        ))}
        {series.map((s) => {
          const points = s.values.flatMap((v, i) => (v === undefined ? [] : [[x(i), y(v)] as const]));
          return (
            <g key={s.key} class={`series ${s.partner} ${s.measure}`} data-series={s.key}>
              {points.length > 1 && <polyline points={points.map(([px, py]) => `${px},${py}`).join(" ")} />}
              {points.map(([px, py]) =>
                s.measure === "heard" ? (
                  <rect key={`${px}`} x={px - 4} y={py - 4} width="8" height="8" />
                ) : (
                  <circle key={`${px}`} cx={px} cy={py} r="4.5" />
                ),
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">
          {series.map((s) => (
            <li key={s.key} class={`series ${s.partner} ${s.measure}`}>
              <svg width="28" height="12" aria-hidden="true">
                <line x1="1" x2="27" y1="6" y2="6" />
                {s.measure === "heard" ? <rect x="10" y="2" width="8" height="8" /> : <circle cx="14" cy="6" r="4" />}
              </svg>
              {s.label}
            </li>
          ))}
        </ul>
        <p class="hint">
          Check-in: how each of you felt at the start (1 very low – 10 very good). How heard: 1–10 at the end.
        </p>
      </figcaption>
      <details class="progress-table-wrap">
        <summary>Show these ratings as a table</summary>
        <table class="progress-table" data-testid="progress-table">
          <caption>Ratings per session (1–10)</caption>
          <thead>
            <tr>
              <th scope="col">Session</th>
              {series.map((s) => (
                <th scope="col" key={s.key}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {sessions.map((session, i) => (
              <tr key={session.entryId}>
                <th scope="row">{tableDate(session.content.date)}</th>
                {series.map((s) => (
                  <td key={s.key}>{s.values[i] ?? "—"}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
