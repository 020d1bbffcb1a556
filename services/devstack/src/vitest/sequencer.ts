import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Vitest's own order (failed first, then longest first from its cache, else largest file first),
 * except that the chaos suites start first: they take minutes each, mostly waiting on faults, and
 * left to the end they would run alone while the other worker sits idle.
 */
export class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const first = (f: TestSpecification) => (/[\\/]test[\\/]chaos[\\/]/.test(f.moduleId) ? 0 : 1);
    return sorted
      .map((f, i) => ({ f, i }))
      .sort((a, b) => first(a.f) - first(b.f) || a.i - b.i)
      .map(({ f }) => f);
  }
}
