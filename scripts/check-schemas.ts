/**
 * CI's schema evolution gate (`npm run schemas:check`): every pair of usage-event schema
 * versions must resolve both ways, fingerprints must differ, every field must be documented.
 * Prints one sentence per broken rule and exits 1, or prints a summary and exits 0.
 */
import { checkSchemaCompatibility, readSchemaSources } from '@burnrate/core';

const sources = readSchemaSources();
const problems = checkSchemaCompatibility(sources);
if (problems.length > 0) {
  for (const problem of problems) console.error(problem.message);
  process.exitCode = 1;
} else {
  const versions = sources.map((s) => `v${s.version}`).join(', ');
  console.log(`Usage-event schemas ${versions} are compatible in every direction and fully documented.`);
}
