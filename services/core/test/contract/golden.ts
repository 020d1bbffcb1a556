import { readFileSync } from 'node:fs';
import type { UsageEvent } from '@burnrate/core';

/** What Apache Avro for Java computed (scripts/golden); see that folder's pom.xml to regenerate. */
export interface Golden {
  generator: string;
  sample_schemas: { schema: string; canonical: string; fingerprint: string }[];
  schemas: { version: number; canonical: string; fingerprint: string }[];
  compatibility: Record<string, string>;
  vectors: {
    name: string;
    version: number;
    event: UsageEvent;
    single_object_hex: string;
    decoded_by_reader: Record<string, UsageEvent>;
  }[];
}

export const golden: Golden = JSON.parse(
  readFileSync(new URL('../fixtures/usage-event-golden.json', import.meta.url), 'utf8'),
);
