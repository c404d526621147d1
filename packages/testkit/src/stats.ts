/**
 * The q-quantile (0–1) of measured values by nearest rank: the smallest value with at least
 * q of all values at or below it (the p90 of ten values is the ninth). NaN when there are none.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
