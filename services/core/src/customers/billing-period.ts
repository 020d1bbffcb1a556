/**
 * The first day (UTC, YYYY-MM-DD) of the billing period that contains `atMs` for a customer whose
 * periods start on `anchorDay` (1–28) of each month. Unmapped customers use calendar months.
 */
export function billingPeriodStart(atMs: number, anchorDay: number | null): string {
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
