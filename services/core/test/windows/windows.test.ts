import { describe, expect, it } from 'vitest';
import {
  billingPeriodEndMs,
  bucketStartSeconds,
  inWindow,
  oldestBucketSeconds,
  sumWindow,
  utcDay,
} from '../../src/windows/windows.js';

const t = (iso: string) => Date.parse(iso);

describe('rolling windows from buckets', () => {
  it('puts an instant in the bucket that starts at or before it', () => {
    expect(bucketStartSeconds('m5', t('2026-11-29T10:00:09.999Z'))).toBe(t('2026-11-29T10:00:00Z') / 1000);
    expect(bucketStartSeconds('h1', t('2026-11-29T10:00:59Z'))).toBe(t('2026-11-29T10:00:00Z') / 1000);
    expect(bucketStartSeconds('h24', t('2026-11-29T10:29:59Z'))).toBe(t('2026-11-29T10:00:00Z') / 1000);
  });

  it('counts the last span/bucket buckets, the current one included', () => {
    const now = t('2026-11-29T10:00:05Z');
    expect(oldestBucketSeconds('m5', now)).toBe(t('2026-11-29T09:55:10Z') / 1000);
    expect(inWindow('m5', t('2026-11-29T09:55:10Z'), now)).toBe(true);
    expect(inWindow('m5', t('2026-11-29T09:55:09.999Z'), now)).toBe(false);
    expect(inWindow('h24', t('2026-11-28T10:30:00Z'), t('2026-11-29T10:00:00Z'))).toBe(true);
    expect(inWindow('h24', t('2026-11-28T10:29:59Z'), t('2026-11-29T10:00:00Z'))).toBe(false);
  });

  it('sums only the buckets inside the window, exactly', () => {
    const now = t('2026-11-29T10:30:00Z');
    const at = (iso: string) => bucketStartSeconds('h1', t(iso));
    const buckets: Array<[number, bigint]> = [
      [at('2026-11-29T09:30:00Z'), 1n], // 61 buckets back: out
      [at('2026-11-29T09:31:00Z'), 9_007_199_254_740_993n], // past 2^53, still exact
      [at('2026-11-29T10:30:00Z'), 7n],
      [at('2026-11-29T10:31:00Z'), 100n], // a future bucket does not count yet
    ];
    expect(sumWindow('h1', buckets, now)).toBe(9_007_199_254_741_000n);
  });

  it('knows UTC days and monthly billing period ends across year ends', () => {
    expect(utcDay(t('2026-11-29T23:59:59.999Z'))).toBe('2026-11-29');
    expect(new Date(billingPeriodEndMs('2026-12-15')).toISOString()).toBe('2027-01-15T00:00:00.000Z');
    expect(new Date(billingPeriodEndMs('2026-01-28')).toISOString()).toBe('2026-02-28T00:00:00.000Z');
  });
});
