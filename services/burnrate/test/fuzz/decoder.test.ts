import { describe, expect, it } from 'vitest';
import { avroCase } from '../../src/fuzz/cases.js';
import { checkDecoderCase } from '../../src/fuzz/decoder-check.js';
import { runDecoderFuzz } from '../../src/fuzz/decoder-harness.js';
import { fuzzPlan } from '../../src/fuzz/run-fuzz.js';
import { lossyDecoder, untypedDecoder } from './planted-decoders.js';

/**
 * The decoder path of the fuzz, reduced: mutated records through the client library's decoder and
 * the contract's validator, judged against an independent strict reader. `npm run fuzz` runs the
 * full size. The negative controls plant each failure the harness must catch: an untyped error and
 * lost data (judged in this thread), and a hang (in the decoding thread, under its watchdog).
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261204);
const plan = fuzzPlan(SEED);
const planted = (name: string) => ({
  module: new URL('./planted-decoders.ts', import.meta.url).href,
  export: name,
});

describe(`decoder fuzz (seed ${SEED})`, () => {
  it('3,000 mutated records: each decodes to a valid event or throws a typed error; none hangs', async () => {
    const report = await runDecoderFuzz({ plan, cases: 3_000 });
    expect(report.failures, JSON.stringify(report.failures.slice(0, 5), null, 1)).toEqual([]);
    expect(report.cases).toBe(3_000);
    expect(Object.keys(report.byKind)).toHaveLength(7);
    const valid = Object.values(report.byKind).reduce((n, k) => n + k.valid, 0);
    expect(valid).toBeGreaterThan(300);
    expect(report.slowestMs).toBeLessThan(2_000);
  });

  it('negative control: a decoder that throws plain Errors is reported, case by case', () => {
    const problems = cases(300).map((c) => checkDecoderCase(c, untypedDecoder).problem);
    expect(problems.filter((p) => p?.startsWith('untyped Error: planted')).length).toBeGreaterThan(0);
  });

  it('negative control: a decoder that never returns is reported as a hang, and the run goes on', async () => {
    // Up to just past the first record shorter than a header: the planted decoder hangs there.
    let first = 0;
    while (avroCase(plan, 'decoder', first).bytes.length >= 10) first++;
    const cases = first + 5;
    const report = await runDecoderFuzz({ plan, cases, hangMs: 1_500, decoder: planted('hangingDecoder') });
    const hangs = report.failures.filter((f) => /hangs/.test(f.problem));
    expect(hangs.map((h) => h.index)).toContain(first);
    expect(report.cases).toBe(cases);
    expect(report.byKind[avroCase(plan, 'decoder', first).kind]!.outcomes.hang).toBeGreaterThan(0);
  });

  it('negative control: a decoder that loses data is caught by the strict reader', () => {
    const problems = cases(300).map((c) => checkDecoderCase(c, lossyDecoder).problem);
    expect(problems.some((p) => /differs from its bytes at tags/.test(p ?? ''))).toBe(true);
    // The positive control: the real decoder on the same cases.
    expect(cases(300).flatMap((c) => checkDecoderCase(c).problem ?? [])).toEqual([]);
  });
});

function cases(n: number) {
  return Array.from({ length: n }, (_, i) => avroCase(plan, 'decoder', i));
}
