import type { Type } from 'avsc';
import { parsingCanonicalForm } from './canonical-form.js';
import { crc64Avro } from './fingerprint.js';
import { compileAvroType, type SchemaSource } from './schema-registry.js';

/** One broken rule of schema evolution; `message` is a sentence naming the versions and the field. */
export interface CompatibilityProblem {
  /** The versions involved: one for a rule about a single schema, [reader, writer] for a pair. */
  versions: number[];
  /** Dotted field path, or 'schema' when the problem is not one field's. */
  field: string;
  message: string;
}

/**
 * The rules every set of usage-event schema versions must keep, checked by `npm run
 * schemas:check` in CI: each version's reader reads every other version's data (old→new and
 * new→old, with avsc's resolver), fingerprints are distinct, every field and named type has a
 * doc, and every enum has a default symbol so old readers survive new symbols.
 */
export function checkSchemaCompatibility(sources: readonly SchemaSource[]): CompatibilityProblem[] {
  const problems: CompatibilityProblem[] = [];
  const compiled: { version: number; type: Type; fingerprint: bigint }[] = [];
  for (const { version, schema } of sources) {
    try {
      const fingerprint = crc64Avro(parsingCanonicalForm(schema));
      compiled.push({ version, type: compileAvroType(schema), fingerprint });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      problems.push({
        versions: [version],
        field: 'schema',
        message: `Schema v${version} does not parse: ${reason}`,
      });
      continue;
    }
    checkDocs(schema, version, '', problems);
  }
  for (const a of compiled) {
    for (const b of compiled) {
      if (a === b) continue;
      if (a.version < b.version && a.fingerprint === b.fingerprint) {
        problems.push({
          versions: [a.version, b.version],
          field: 'schema',
          message: `Schemas v${a.version} and v${b.version} have the same fingerprint, so the wire cannot tell them apart.`,
        });
      }
      const failure = resolutionFailure(a.type, b.type, '');
      if (failure) {
        problems.push({
          versions: [a.version, b.version],
          field: failure.field,
          message: `A v${a.version} reader cannot read v${b.version} data: field ${failure.field} ${failure.reason}.`,
        });
      }
    }
  }
  return problems;
}

interface AvroField {
  name: string;
  aliases: string[];
  type: Type;
  defaultValue(): unknown;
}

/** Why `reader` cannot resolve `writer`, narrowed to the deepest field at fault, or undefined. */
function resolutionFailure(
  reader: Type,
  writer: Type,
  path: string,
): { field: string; reason: string } | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (reader.typeName !== 'record' || writer.typeName !== 'record') {
      return { field: path || 'schema', reason: `does not resolve (${reason})` };
    }
    const writerFields = (writer as unknown as { fields: AvroField[] }).fields;
    for (const field of (reader as unknown as { fields: AvroField[] }).fields) {
      const fieldPath = path ? `${path}.${field.name}` : field.name;
      const names = [field.name, ...field.aliases];
      const match = writerFields.find((w) => names.includes(w.name));
      if (!match) {
        if (field.defaultValue() === undefined) {
          return { field: fieldPath, reason: `has no default and the writer does not have it` };
        }
        continue;
      }
      const inner = resolutionFailure(field.type, match.type, fieldPath);
      if (inner) return inner;
    }
    return { field: path || 'schema', reason: `does not resolve (${reason})` };
  }
}

/** Fields and named types without a non-empty "doc", walked through unions, arrays and maps. */
function checkDocs(schema: unknown, version: number, path: string, problems: CompatibilityProblem[]): void {
  if (Array.isArray(schema)) {
    for (const branch of schema) checkDocs(branch, version, path, problems);
    return;
  }
  if (schema === null || typeof schema !== 'object') return;
  const node = schema as Record<string, unknown>;
  const where = path || 'schema';
  const named = node.type === 'record' || node.type === 'enum' || node.type === 'fixed';
  if (named && !hasDoc(node)) {
    problems.push({
      versions: [version],
      field: where,
      message: `Schema v${version} has no doc for type ${String(node.name)}.`,
    });
  }
  if (node.type === 'enum' && typeof node.default !== 'string') {
    problems.push({
      versions: [version],
      field: where,
      message: `Schema v${version} enum ${String(node.name)} (${where}) has no default symbol for readers to fall back to.`,
    });
  }
  if (node.type === 'array') checkDocs(node.items, version, path, problems);
  if (node.type === 'map') checkDocs(node.values, version, path, problems);
  if (typeof node.type === 'object') checkDocs(node.type, version, path, problems);
  if (node.type !== 'record' || !Array.isArray(node.fields)) return;
  for (const field of node.fields as Record<string, unknown>[]) {
    const fieldPath = path ? `${path}.${String(field.name)}` : String(field.name);
    if (!hasDoc(field)) {
      problems.push({
        versions: [version],
        field: fieldPath,
        message: `Schema v${version} field ${fieldPath} has no doc.`,
      });
    }
    checkDocs(field.type, version, fieldPath, problems);
  }
}

function hasDoc(node: Record<string, unknown>): boolean {
  return typeof node.doc === 'string' && node.doc.trim() !== '';
}
