/**
 * Writes schemas/alerts/alert-payload.v1.json, the JSON Schema of what alert destinations receive,
 * from its one definition (alertPayloadSchema in @burnrate/core). A test fails when the file is stale.
 *   npm run schemas:alerts
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { alertPayloadJsonSchema } from '@burnrate/core';

const file = fileURLToPath(new URL('../schemas/alerts/alert-payload.v1.json', import.meta.url));
writeFileSync(file, `${JSON.stringify(alertPayloadJsonSchema(), null, 2)}\n`);
// The repository's formatter has the last word on layout (the test compares content, not layout).
execFileSync('npx', ['--no-install', 'biome', 'format', '--write', file], { stdio: 'ignore' });
console.log(`wrote ${file}`);
