// docs/capacity.md's derived tables, computed from the inputs table at the top of that same file.
//   node --conditions=@burnrate/source --import tsx scripts/capacity.ts           # print them
//   node --conditions=@burnrate/source --import tsx scripts/capacity.ts --write   # put them in the doc
//   node --conditions=@burnrate/source --import tsx scripts/capacity.ts --check   # exit 1 if the doc is stale
// It also measures the two byte sizes it can (the benchmark traffic's Avro event and enriched row)
// and prints them next to the table's low values; --check fails when they drift by more than 2 %.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeUsageEvent } from '@burnrate/core';
import { benchEvent } from './bench-events.js';
import { benchEnrichedRows } from './bench-process.js';
import { parseInputs, render } from './capacity-model.js';

const DOC = fileURLToPath(new URL('../docs/capacity.md', import.meta.url));
const BEGIN = '<!-- capacity:derived (scripts/capacity.ts --write; do not edit by hand) -->';
const END = '<!-- /capacity:derived -->';

/** Mean bytes per event of the benchmark traffic: the Avro record and the enriched row on the topic. */
function measureBytes(n = 5_000): { event: number; row: number } {
  let event = 0;
  for (let i = 0; i < n; i++) event += encodeUsageEvent(benchEvent(i)).length;
  const row = benchEnrichedRows(n).reduce((s, r) => s + Buffer.byteLength(r.value), 0);
  return { event: event / n, row: row / n };
}

const doc = readFileSync(DOC, 'utf8');
const start = doc.indexOf(BEGIN);
const stop = doc.indexOf(END);
if (start < 0 || stop < start) throw new Error(`docs/capacity.md lacks the markers ${BEGIN} … ${END}`);
const inputs = parseInputs(doc.slice(0, start));
const derived = render(inputs);
const updated = `${doc.slice(0, start + BEGIN.length)}\n\n${derived}\n\n${doc.slice(stop)}`;

const measured = measureBytes();
const drift = [
  ['event_bytes', measured.event, inputs.event_bytes.low],
  ['row_bytes', measured.row, inputs.row_bytes.low],
] as const;
const drifted = drift.filter(([, m, t]) => Math.abs(m - t) / t > 0.02);
const mode = process.argv[2];
if (mode === '--write') {
  writeFileSync(DOC, updated);
  console.log('docs/capacity.md: derived tables written');
} else if (mode === '--check') {
  if (updated !== doc) {
    console.error('docs/capacity.md is stale: run scripts/capacity.ts --write');
    process.exitCode = 1;
  }
} else {
  console.log(derived);
}
for (const [key, m, t] of drift) console.error(`measured ${key}: ${m.toFixed(1)} (table low value: ${t})`);
if (drifted.length > 0) {
  console.error(
    `the measured sizes drifted from the table (> 2 %): update ${drifted.map(([k]) => k).join(', ')}`,
  );
  if (mode === '--check') process.exitCode = 1;
}
