import { BurnrateError } from '../errors.js';

/**
 * Parsing Canonical Form of an Avro schema, per the Avro specification ("Transforming into
 * Parsing Canonical Form"): primitives as bare names, full names, only the attributes that affect
 * parsing (name, type, fields, symbols, items, values, size) in that order, named types spelled
 * out at first use and referenced by full name after, no whitespace.
 *
 * Written here rather than taken from avsc because avsc documents no such guarantee, and the
 * fingerprint of this string is what producers in every language put on the wire.
 */
export function parsingCanonicalForm(schema: unknown): string {
  return canonical(schema, '', new Set<string>());
}

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

function canonical(schema: unknown, namespace: string, defined: Set<string>): string {
  if (typeof schema === 'string') {
    if (PRIMITIVES.has(schema)) return quote(schema);
    return quote(resolveReference(schema, namespace, defined));
  }
  if (Array.isArray(schema)) {
    return '[' + schema.map((branch) => canonical(branch, namespace, defined)).join(',') + ']';
  }
  if (schema === null || typeof schema !== 'object') {
    throw invalid(`an Avro schema must be a string, an array or an object, not ${JSON.stringify(schema)}`);
  }
  const node = schema as Record<string, unknown>;
  const type = node.type;
  if (typeof type !== 'string') return canonical(type, namespace, defined);
  if (PRIMITIVES.has(type)) return quote(type);
  if (type === 'array') return `{"type":"array","items":${canonical(node.items, namespace, defined)}}`;
  if (type === 'map') return `{"type":"map","values":${canonical(node.values, namespace, defined)}}`;
  if (!NAMED.has(type)) return canonical(type, namespace, defined);
  return named(node, type, namespace, defined);
}

function named(node: Record<string, unknown>, type: string, enclosing: string, defined: Set<string>): string {
  const fullName = fullNameOf(node, enclosing);
  // A named type is spelled out once; a second definition under the same name is an error in Avro.
  if (defined.has(fullName)) throw invalid(`the Avro type ${fullName} is defined twice`);
  defined.add(fullName);
  const namespace = namespaceOf(fullName);
  const head = `{"name":${quote(fullName)},"type":"${type === 'error' ? 'record' : type}"`;
  if (type === 'enum') {
    const symbols = node.symbols;
    if (!Array.isArray(symbols)) throw invalid(`the Avro enum ${fullName} has no symbols array`);
    return `${head},"symbols":[${symbols.map((s) => quote(String(s))).join(',')}]}`;
  }
  if (type === 'fixed') {
    const size = Number(node.size);
    if (!Number.isInteger(size) || size < 0) throw invalid(`the Avro fixed ${fullName} has no valid size`);
    return `${head},"size":${size}}`;
  }
  const fields = node.fields;
  if (!Array.isArray(fields)) throw invalid(`the Avro record ${fullName} has no fields array`);
  const parts = fields.map((field: { name?: unknown; type?: unknown }) => {
    if (typeof field?.name !== 'string') throw invalid(`a field of the Avro record ${fullName} has no name`);
    return `{"name":${quote(field.name)},"type":${canonical(field.type, namespace, defined)}}`;
  });
  return `${head},"fields":[${parts.join(',')}]}`;
}

function fullNameOf(node: Record<string, unknown>, enclosing: string): string {
  const name = node.name;
  if (typeof name !== 'string' || name === '') throw invalid('a named Avro type has no name');
  if (name.includes('.')) return name;
  // An explicit namespace, even an empty one (the null namespace), overrides the enclosing one.
  const namespace = typeof node.namespace === 'string' ? node.namespace : enclosing;
  return namespace === '' ? name : `${namespace}.${name}`;
}

function namespaceOf(fullName: string): string {
  const dot = fullName.lastIndexOf('.');
  return dot < 0 ? '' : fullName.slice(0, dot);
}

function resolveReference(name: string, namespace: string, defined: Set<string>): string {
  if (name.includes('.')) {
    if (defined.has(name)) return name;
  } else {
    const qualified = namespace === '' ? name : `${namespace}.${name}`;
    if (defined.has(qualified)) return qualified;
    // Like Avro for Java, fall back to the null namespace.
    if (defined.has(name)) return name;
  }
  throw invalid(`the Avro schema refers to ${name}, which is not defined before its use`);
}

function quote(text: string): string {
  // JSON.stringify leaves non-ASCII characters as they are, which is what [STRINGS] asks for.
  return JSON.stringify(text);
}

function invalid(message: string): BurnrateError {
  return new BurnrateError('invalid_schema', `${message[0]?.toUpperCase()}${message.slice(1)}.`, {
    field: 'schema',
  });
}
