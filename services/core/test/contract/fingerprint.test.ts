import { bundledSchemaSources, crc64Avro, fingerprintHex, parsingCanonicalForm } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { golden } from './golden.js';

describe('parsing canonical form and CRC-64-AVRO, against Avro for Java', () => {
  it.each(golden.sample_schemas.map((s) => [s.schema, s]))('%s', (_, sample) => {
    const canonical = parsingCanonicalForm(JSON.parse(sample.schema));
    expect(canonical).toBe(sample.canonical);
    expect(fingerprintHex(crc64Avro(canonical))).toBe(sample.fingerprint);
  });

  it('matches for every bundled usage-event schema version', () => {
    const sources = bundledSchemaSources();
    expect(sources.map((s) => s.version)).toEqual(golden.schemas.map((s) => s.version));
    for (const source of sources) {
      const java = golden.schemas.find((s) => s.version === source.version)!;
      const canonical = parsingCanonicalForm(source.schema);
      expect(canonical).toBe(java.canonical);
      expect(fingerprintHex(crc64Avro(canonical))).toBe(java.fingerprint);
    }
  });

  it('is the empty-input constant of the spec for no bytes', () => {
    expect(crc64Avro(new Uint8Array())).toBe(0xc15d213aa4d7a795n);
  });

  it('hashes the UTF-8 bytes of a string', () => {
    expect(crc64Avro('"é"')).toBe(crc64Avro(new Uint8Array([0x22, 0xc3, 0xa9, 0x22])));
  });

  it('prints 16 hex digits, zero-padded', () => {
    expect(fingerprintHex(0xabn)).toBe('00000000000000ab');
  });

  it('rejects a reference to a type not defined before', () => {
    expect(() => parsingCanonicalForm({ type: 'array', items: 'Missing' })).toThrow(/Missing/);
  });

  it('rejects a named type defined twice', () => {
    const enumType = { type: 'enum', name: 'E', symbols: ['A'] };
    expect(() => parsingCanonicalForm([enumType, enumType])).toThrow(/E is defined twice/);
  });
});
