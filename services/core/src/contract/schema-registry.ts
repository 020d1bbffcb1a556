import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Type } from 'avsc';
import { BurnrateError } from '../errors.js';
import { BUNDLED_SCHEMA_SOURCES } from './bundled-schemas.js';
import { parsingCanonicalForm } from './canonical-form.js';
import { crc64Avro, fingerprintHex } from './fingerprint.js';
import { compileStrict } from './strict-reads.js';

/** One schema version as written in schemas/usage-event/v<version>.avsc. */
export interface SchemaSource {
  version: number;
  /** The parsed .avsc JSON, docs and defaults included. */
  schema: unknown;
}

export interface UsageEventSchema extends SchemaSource {
  /** Parsing Canonical Form, the string the fingerprint is computed over. */
  readonly canonicalForm: string;
  /** CRC-64-AVRO of the canonical form. */
  readonly fingerprint: bigint;
  /** The fingerprint as 16 hex digits, most significant first (as Avro for Java prints it). */
  readonly fingerprintHex: string;
  /** Compiled avsc type, made once and shared by every codec. */
  readonly type: Type;
}

export interface UsageEventSchemaRegistry {
  /** All versions, oldest first. */
  readonly versions: readonly UsageEventSchema[];
  /** The newest version: the writer by default and the reader every message resolves to. */
  readonly latest: UsageEventSchema;
  /** The given version; throws a BurnrateError `unknown_schema_version` when it is not bundled. */
  get(version: number): UsageEventSchema;
}

const FILE_NAME = /^v([1-9]\d*)\.avsc$/;

/** Reads every v<N>.avsc in a folder (such as the repository's schemas/usage-event), oldest first. */
export function readSchemaSources(dir: URL | string): SchemaSource[] {
  const sources: SchemaSource[] = [];
  for (const name of readdirSync(dir)) {
    const match = FILE_NAME.exec(name);
    if (!match) continue;
    const text = readFileSync(new URL(name, dirUrl(dir)), 'utf8');
    try {
      sources.push({ version: Number(match[1]), schema: JSON.parse(text) });
    } catch (cause) {
      throw new BurnrateError('invalid_schema', `The schema file ${name} is not valid JSON.`, {
        field: name,
        cause,
      });
    }
  }
  return sources.sort((a, b) => a.version - b.version);
}

/** Compiles schema versions once: canonical forms, fingerprints and avsc types. */
export function createSchemaRegistry(sources: readonly SchemaSource[]): UsageEventSchemaRegistry {
  if (sources.length === 0) {
    throw new BurnrateError('invalid_schema', 'No usage-event schema version was given.', {
      field: 'schema',
    });
  }
  const versions = [...sources].sort((a, b) => a.version - b.version).map(compile);
  const byVersion = new Map<number, UsageEventSchema>();
  const byFingerprint = new Map<bigint, UsageEventSchema>();
  for (const v of versions) {
    const twin = byFingerprint.get(v.fingerprint);
    if (byVersion.has(v.version) || twin) {
      const what = twin ? `has the same fingerprint as v${twin.version}` : 'is given twice';
      throw new BurnrateError('invalid_schema', `Usage-event schema v${v.version} ${what}.`, {
        field: `v${v.version}`,
      });
    }
    byVersion.set(v.version, v);
    byFingerprint.set(v.fingerprint, v);
  }
  return {
    versions,
    latest: versions[versions.length - 1]!,
    get(version) {
      const found = byVersion.get(version);
      if (!found) {
        const known = versions.map((v) => `v${v.version}`).join(', ');
        throw new BurnrateError(
          'unknown_schema_version',
          `Usage-event schema version ${version} is not bundled (known: ${known}).`,
          { field: 'version' },
        );
      }
      return found;
    },
  };
}

let bundled: UsageEventSchemaRegistry | undefined;

/** The schemas of schemas/usage-event/, embedded in this package (an installed package reads no file). */
export function bundledSchemaSources(): readonly SchemaSource[] {
  return BUNDLED_SCHEMA_SOURCES;
}

/** The registry of the bundled schemas, compiled on first use and then kept. */
export function bundledSchemaRegistry(): UsageEventSchemaRegistry {
  bundled ??= createSchemaRegistry(BUNDLED_SCHEMA_SOURCES);
  return bundled;
}

/** Compiles one schema the way every codec reads and writes it. */
export function compileAvroType(schema: unknown): Type {
  // Unions stay unwrapped so events are the plain objects of the UsageEvent type; records get no
  // methods so decoded events look like any other object.
  // Reads are strict: UTF-8 strings, map counts bounded by the bytes left (see strict-reads.ts).
  return compileStrict(schema);
}

function compile(source: SchemaSource): UsageEventSchema {
  let type: Type;
  let canonicalForm: string;
  try {
    type = compileAvroType(source.schema);
    canonicalForm = parsingCanonicalForm(source.schema);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new BurnrateError('invalid_schema', `Usage-event schema v${source.version} is invalid: ${reason}`, {
      field: `v${source.version}`,
      cause,
    });
  }
  const fingerprint = crc64Avro(canonicalForm);
  return { ...source, canonicalForm, fingerprint, fingerprintHex: fingerprintHex(fingerprint), type };
}

function dirUrl(dir: URL | string): URL {
  const url = dir instanceof URL ? dir : pathToFileURL(resolve(dir));
  return url.href.endsWith('/') ? url : new URL(`${url.href}/`);
}
