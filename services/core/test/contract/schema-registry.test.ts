import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BurnrateError,
  bundledSchemaRegistry,
  bundledSchemaSources,
  createSchemaRegistry,
  readSchemaSources,
} from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { makeUsageEvent } from '../fixtures/usage-events.js';

describe('usage-event schema registry', () => {
  it('embeds exactly the files of schemas/usage-event (run `npm run schemas:bundle` when this fails)', () => {
    const dir = fileURLToPath(new URL('../../../../schemas/usage-event/', import.meta.url));
    expect(readdirSync(dir)).toContain('v1.avsc');
    expect(bundledSchemaSources()).toEqual(readSchemaSources(dir));
  });

  it('orders versions and makes the newest the reader', () => {
    const registry = bundledSchemaRegistry();
    const versions = registry.versions.map((v) => v.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(versions[0]).toBe(1);
    expect(registry.latest.version).toBe(versions[versions.length - 1]);
    expect(registry.get(1).fingerprintHex).toMatch(/^[0-9a-f]{16}$/);
  });

  it('has in its latest version exactly the fields of the UsageEvent type', () => {
    const fields = (registry: ReturnType<typeof bundledSchemaRegistry>) =>
      (registry.latest.schema as { fields: { name: string }[] }).fields.map((f) => f.name);
    const event = makeUsageEvent({ environment: null, request_id: null });
    expect(fields(bundledSchemaRegistry())).toEqual(Object.keys(event));
  });

  it('reads numbered files from any folder and ignores the rest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'schemas-'));
    writeFileSync(join(dir, 'v10.avsc'), '"long"');
    writeFileSync(join(dir, 'v2.avsc'), '"int"');
    writeFileSync(join(dir, 'notes.md'), '# not a schema');
    expect(readSchemaSources(dir)).toEqual([
      { version: 2, schema: 'int' },
      { version: 10, schema: 'long' },
    ]);
  });

  it('names the file that is not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'schemas-'));
    writeFileSync(join(dir, 'v1.avsc'), '{ nope');
    expect(() => readSchemaSources(dir)).toThrow('The schema file v1.avsc is not valid JSON.');
  });

  it('refuses unknown versions, duplicates and invalid schemas with typed errors', () => {
    const registry = createSchemaRegistry([{ version: 1, schema: 'int' }]);
    expect(() => registry.get(3)).toThrow(/version 3 is not bundled \(known: v1\)/);
    expect(() =>
      createSchemaRegistry([
        { version: 1, schema: 'int' },
        { version: 2, schema: { type: 'int', doc: 'same parsing form' } },
      ]),
    ).toThrow('Usage-event schema v2 has the same fingerprint as v1.');
    const error = (() => {
      try {
        createSchemaRegistry([{ version: 1, schema: { type: 'record', name: 'R', fields: 'none' } }]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BurnrateError);
    expect((error as BurnrateError).code).toBe('invalid_schema');
    expect((error as BurnrateError).field).toBe('v1');
  });
});
