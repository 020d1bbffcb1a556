/**
 * The fuzz (docs/reliability.md, "Fuzzing"): seeded mutations of usage events through the decoder,
 * the enricher process and the HTTP ingest. Development tooling, run from the repository with tsx;
 * not part of the published build.
 */
export { type AvroCase, avroCase, type FuzzPlan, type JsonCase, jsonCase } from './cases.js';
export { type DecoderFuzzOptions, runDecoderFuzz } from './decoder-harness.js';
export {
  type EnricherFuzzOptions,
  type Expectation,
  judgeRecords,
  type Observation,
  runEnricherFuzz,
} from './enricher-harness.js';
export { type HttpFuzzOptions, judgeAnswer, runHttpFuzz } from './http-harness.js';
export { formatReport, type PathReport } from './report.js';
export { createRng, randomSeed } from './rng.js';
export {
  type FuzzCounts,
  type FuzzRunOptions,
  type FuzzRunResult,
  fuzzPlan,
  runFuzz,
  splitTotal,
} from './run-fuzz.js';
export { type FuzzTarget, startFuzzTarget } from './target.js';
