/**
 * The first day (UTC, YYYY-MM-DD) of the billing period that contains `atMs` for a customer whose
 * periods start on `anchorDay` (1–28) of each month. Unmapped customers use calendar months.
 */
export function billingPeriodStart(atMs: number, anchorDay: number | null): string {
  // Called for every event; the answer depends only on the UTC day and the anchor.
  const key = Math.floor(atMs / DAY_MS) * 32 + (anchorDay ?? 1);
  let start = memo.get(key);
  if (start === undefined) {
    start = compute(atMs, anchorDay);
    if (memo.size >= 4_096) memo.clear();
    memo.set(key, start);
  }
  return start;
}

const DAY_MS = 86_400_000;
const memo = new Map<number, string>();

function compute(atMs: number, anchorDay: number | null): string {
  const d = new Date(atMs);
  const anchor = anchorDay ?? 1;
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth();
  if (d.getUTCDate() < anchor) {
    month -= 1;
    if (month < 0) {
      month = 11;
      year -= 1;
    }
  }
  return `${year}-${String(month + 1).padStart(2, '0')}-${String(anchor).padStart(2, '0')}`;
}
