/**
 * CI's schema evolution gate (`npm run schemas:check`): every pair of usage-event schema versions
 * must resolve both ways, fingerprints must differ, every field must be documented and every enum
 * must have a default. Prints one sentence per broken rule and exits 1, else a summary.
 *
 * Usage: check-schemas.ts [folder]   (default: schemas/usage-event)
 */
import { checkSchemaCompatibility, readSchemaSources } from '@burnrate/core';

const folder = process.argv[2];
const sources = readSchemaSources(folder ?? new URL('../schemas/usage-event/', import.meta.url));
const problems = checkSchemaCompatibility(sources);
if (problems.length > 0) {
  for (const problem of problems) console.error(problem.message);
  process.exitCode = 1;
} else if (sources.length === 0) {
  console.error(`No v<N>.avsc schema files were found in ${folder ?? 'schemas/usage-event'}.`);
  process.exitCode = 1;
} else {
  const versions = sources.map((s) => `v${s.version}`).join(', ');
  console.log(`Usage-event schemas ${versions} are compatible in every direction and fully documented.`);
}
