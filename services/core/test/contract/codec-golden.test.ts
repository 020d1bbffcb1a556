import { createUsageEventCodec, decodeUsageEvent, encodeUsageEvent } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { golden } from './golden.js';

describe('single-object encoding, against Avro for Java', () => {
  it.each(golden.vectors.map((v) => [v.name, v]))('encodes %s byte for byte', (_, vector) => {
    const bytes = encodeUsageEvent(vector.event, { version: vector.version });
    expect(bytes.toString('hex')).toBe(vector.single_object_hex);
  });

  it.each(golden.vectors.map((v) => [v.name, v]))(
    'decodes the Java bytes of %s with every reader',
    (_, vector) => {
      const bytes = Buffer.from(vector.single_object_hex, 'hex');
      for (const [reader, expected] of Object.entries(vector.decoded_by_reader)) {
        const codec = createUsageEventCodec({ readerVersion: Number(reader.slice(1)) });
        const decoded = codec.decode(bytes);
        expect(decoded.schemaVersion).toBe(vector.version);
        expect(decoded.fingerprint).toBe(
          golden.schemas.find((s) => s.version === vector.version)!.fingerprint,
        );
        expect(decoded.event).toEqual(expected);
      }
    },
  );

  it('decodes with the latest schema by default', () => {
    const v1 = golden.vectors.find((v) => v.version === 1)!;
    const { event } = decodeUsageEvent(Buffer.from(v1.single_object_hex, 'hex'));
    expect(event.environment).toBeNull();
    expect(event.request_id).toBeNull();
  });
});
