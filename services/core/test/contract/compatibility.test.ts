import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundledSchemaSources, checkSchemaCompatibility, type SchemaSource } from '@burnrate/core';
import { describe, expect, it } from 'vitest';
import { golden } from './golden.js';

type Json = Record<string, unknown>;

type RecordSchema = { fields: Json[] };

/**
 * Bundled v1 and a copy of it as v2 changed by `editNext`; `editBoth` first changes both, for
 * rules that are about a property the two versions share.
 */
function versions(
  editNext: (schema: RecordSchema) => void,
  editBoth?: (schema: RecordSchema) => void,
): [SchemaSource, SchemaSource] {
  const v1 = bundledSchemaSources()[0]!;
  const first = structuredClone(v1.schema) as RecordSchema;
  const next = structuredClone(v1.schema) as RecordSchema;
  editBoth?.(first);
  editBoth?.(next);
  editNext(next);
  return [
    { version: 1, schema: first },
    { version: 2, schema: next },
  ];
}

/** A compatible change, so that a version differs in fingerprint from the one before. */
function addOptionalField(schema: RecordSchema): void {
  schema.fields.push({ name: 'region', type: ['null', 'string'], default: null, doc: 'Cloud region.' });
}

function field(schema: RecordSchema, name: string): Json {
  return schema.fields.find((f) => f.name === name)!;
}

describe('schema compatibility check', () => {
  it('passes for the bundled versions', () => {
    expect(checkSchemaCompatibility(bundledSchemaSources())).toEqual([]);
  });

  it('agrees with Avro for Java that every bundled pair is compatible', () => {
    const versions = bundledSchemaSources().map((s) => s.version);
    for (const reader of versions) {
      for (const writer of versions) {
        expect(golden.compatibility[`v${reader}_reads_v${writer}`]).toBe('COMPATIBLE');
      }
    }
  });

  it('fails a new field without a default, naming both versions and the field', () => {
    const problems = checkSchemaCompatibility(
      versions((s) => {
        s.fields.push({ name: 'region', type: 'string', doc: 'Cloud region.' });
      }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ versions: [2, 1], field: 'region' });
    expect(problems[0]!.message).toBe(
      'A v2 reader cannot read v1 data: field region has no default and the writer does not have it.',
    );
  });

  it('fails a removed field that had no default, for the old reader', () => {
    const problems = checkSchemaCompatibility(
      versions((s) => {
        s.fields = s.fields.filter((f) => f.name !== 'model');
      }),
    );
    expect(problems.map((p) => [p.versions, p.field])).toEqual([[[1, 2], 'model']]);
  });

  it('narrows a changed type to the nested field', () => {
    const problems = checkSchemaCompatibility(
      versions((s) => {
        const tokens = field(s, 'tokens');
        field(tokens.type as RecordSchema, 'output').type = 'string';
        field(tokens.type as RecordSchema, 'output').default = '0';
        (tokens.default as Json).output = '0';
      }),
    );
    expect(problems.map((p) => [p.versions, p.field])).toEqual([
      [[1, 2], 'tokens.output'],
      [[2, 1], 'tokens.output'],
    ]);
    expect(problems[0]!.message).toMatch(
      /^A v1 reader cannot read v2 data: field tokens\.output does not resolve/,
    );
  });

  it('fails a new enum symbol when the enum has no default', () => {
    const statusType = (s: RecordSchema) => field(s, 'status').type as Json;
    const problems = checkSchemaCompatibility(
      versions(
        (s) => {
          statusType(s).symbols = [...(statusType(s).symbols as string[]), 'rate_limited'];
        },
        (s) => delete statusType(s).default,
      ),
    );
    expect(problems.map((p) => [p.versions, p.field])).toEqual([
      [[1], 'status'],
      [[2], 'status'],
      [[1, 2], 'status'],
    ]);
    expect(problems[0]!.message).toBe(
      'Schema v1 enum EventStatus (status) has no default symbol for readers to fall back to.',
    );
  });

  it('fails a field without a doc', () => {
    const problems = checkSchemaCompatibility(
      versions((s) => {
        addOptionalField(s);
        delete field(field(s, 'units').type as RecordSchema, 'images').doc;
      }),
    );
    expect(problems).toEqual([
      { versions: [2], field: 'units.images', message: 'Schema v2 field units.images has no doc.' },
    ]);
  });

  it('fails two versions with the same fingerprint', () => {
    // Docs do not take part in the canonical form, so this edit leaves the fingerprint as it was.
    const problems = checkSchemaCompatibility(
      versions((s) => {
        field(s, 'model').doc = 'Another doc.';
      }),
    );
    expect(problems.map((p) => p.message)).toEqual([
      'Schemas v1 and v2 have the same fingerprint, so the wire cannot tell them apart.',
    ]);
  });

  describe('the CI script', () => {
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    const run = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ['--conditions=@burnrate/source', '--import', 'tsx', 'scripts/check-schemas.ts', ...args],
        {
          cwd: root,
          encoding: 'utf8',
        },
      );

    it('exits 0 for the bundled schemas', () => {
      const result = run();
      expect(result.stdout).toMatch(/^Usage-event schemas v1, v2(, v\d+)* are compatible in every direction/);
      expect(result.status).toBe(0);
    });

    it('exits 1 with one sentence per problem for a folder of incompatible versions', () => {
      const dir = mkdtempSync(join(tmpdir(), 'schemas-'));
      const [v1, v2] = versions((s) => {
        s.fields.push({ name: 'region', type: 'string', doc: 'Cloud region.' });
      });
      writeFileSync(join(dir, 'v1.avsc'), JSON.stringify(v1.schema));
      writeFileSync(join(dir, 'v2.avsc'), JSON.stringify(v2.schema));
      const result = run(dir);
      expect(result.stderr.trim()).toBe(
        'A v2 reader cannot read v1 data: field region has no default and the writer does not have it.',
      );
      expect(result.status).toBe(1);
    });
  });
});
