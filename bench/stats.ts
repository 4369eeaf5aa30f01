/** Small statistics helpers shared by the load generator and the orchestrator. */

export interface LatencySummary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (q in 0..1). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** p50/p95/p99/max of latency samples in ms, rounded to 0.01 ms. */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  const arr = Array.from(sorted);
  const r = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : Number.NaN);
  return {
    n: arr.length,
    p50: r(percentile(arr, 0.5)),
    p95: r(percentile(arr, 0.95)),
    p99: r(percentile(arr, 0.99)),
    max: r(arr.length ? arr[arr.length - 1]! : Number.NaN),
  };
}

/** The median of some numbers (NaN when empty). */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}
