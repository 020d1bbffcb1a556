import { describe, expect, it } from 'vitest';
import { AVRO_KINDS } from '../../src/fuzz/avro-mutations.js';
import { avroCase, jsonCase } from '../../src/fuzz/cases.js';
import { JSON_KINDS } from '../../src/fuzz/json-mutations.js';
import { classifyAvro, classifyJsonBody } from '../../src/fuzz/oracle.js';
import { createRng } from '../../src/fuzz/rng.js';
import { fuzzPlan } from '../../src/fuzz/run-fuzz.js';
import { TARGET_LIMITS } from '../../src/fuzz/target.js';

/** The mutator is pure and seeded: the same seed gives the same cases, and every kind does what it says. */
const plan = fuzzPlan(12345, Date.UTC(2026, 11, 4, 12));
const httpLimits = { ...TARGET_LIMITS, keyId: 'fuzz' };

describe('the fuzz mutator', () => {
  it('is deterministic: a seed and an index rebuild the same bytes, another seed does not', () => {
    for (const i of [0, 1, 7, 500, 4321]) {
      expect(avroCase(plan, 'decoder', i).bytes.equals(avroCase(plan, 'decoder', i).bytes)).toBe(true);
      expect(jsonCase(plan, i).body.equals(jsonCase(plan, i).body)).toBe(true);
    }
    const other = fuzzPlan(54321, plan.nowMs);
    const same = [0, 1, 2, 3, 4, 5, 6].filter((i) =>
      avroCase(plan, 'decoder', i).bytes.equals(avroCase(other, 'decoder', i).bytes),
    );
    expect(same).toEqual([]);
    expect(createRng(1).fork('a').next()).toBe(createRng(1).fork('a').next());
    expect(createRng(1).fork('a').next()).not.toBe(createRng(1).fork('b').next());
  });

  it('makes every Avro kind, and each kind yields both valid events and typed rejections where it can', () => {
    const byKind = new Map<string, { valid: number; invalid: number; codes: Set<string> }>();
    for (let i = 0; i < 1_050; i++) {
      const c = avroCase(plan, 'decoder', i);
      const verdict = classifyAvro(c.bytes);
      expect('untyped' in verdict, `#${i} ${c.variant}`).toBe(false);
      const k = byKind.get(c.kind) ?? { valid: 0, invalid: 0, codes: new Set() };
      if (verdict.valid) k.valid++;
      else {
        k.invalid++;
        if ('code' in verdict) k.codes.add(verdict.code);
      }
      byKind.set(c.kind, k);
    }
    expect([...byKind.keys()].sort()).toEqual([...AVRO_KINDS].sort());
    for (const kind of ['bit_flip', 'extreme_value', 'oversized_string', 'oversized_map', 'type_confusion']) {
      expect(byKind.get(kind)!.valid, kind).toBeGreaterThan(0);
      expect(byKind.get(kind)!.invalid, kind).toBeGreaterThan(0);
    }
    expect(byKind.get('truncation')!.valid).toBe(0);
    expect(byKind.get('unknown_fingerprint')!.valid).toBe(0);
    expect(byKind.get('unknown_fingerprint')!.codes).toContain('unknown_schema');
    expect(byKind.get('extreme_value')!.codes).toEqual(new Set(['invalid_event', 'undecodable']));
  });

  it('writes the value a variant names where it says (extreme values are the numbers in the variant)', () => {
    let checked = 0;
    for (let i = AVRO_KINDS.indexOf('extreme_value'); i < 7_000; i += AVRO_KINDS.length) {
      const c = avroCase(plan, 'decoder', i);
      if (!c.variant.startsWith('tokens.input=')) continue;
      const verdict = classifyAvro(c.bytes);
      const label = c.variant.split('=')[1];
      if (label === '1e9') expect(verdict.valid && verdict.event.tokens.input).toBe(1_000_000_000);
      if (label === '1e9+1')
        expect(!verdict.valid && 'field' in verdict && verdict.field).toBe('tokens.input');
      if (label === '-1') expect(!verdict.valid && 'field' in verdict && verdict.field).toBe('tokens.input');
      checked++;
    }
    expect(checked).toBeGreaterThan(3);
  });

  it('makes every JSON kind, and places raw values in the body (no placeholder is left behind)', () => {
    const kinds = new Set<string>();
    let valid = 0;
    for (let i = 0; i < 540; i++) {
      const c = jsonCase(plan, i);
      kinds.add(c.kind);
      expect(c.body.includes('fuzz-value-placeholder'), `#${i} ${c.variant}`).toBe(false);
      const verdict = classifyJsonBody(c.body, httpLimits);
      if (verdict.accept) valid++;
      if (c.kind === 'extreme_value' && c.variant.endsWith('=1e309')) {
        expect(c.body.toString()).toContain(':1e309');
        expect(verdict.accept).toBe(false);
      }
      if (c.kind === 'invalid_utf8') expect(verdict).toMatchObject({ accept: false, reason: 'invalid_utf8' });
      if (c.kind === 'unknown_field') expect(verdict.accept).toBe(false);
      if (c.variant.endsWith(':lone_surrogate')) {
        expect(verdict).toMatchObject({ accept: false, level: 'event' });
      }
    }
    expect([...kinds].sort()).toEqual([...JSON_KINDS].sort());
    expect(valid).toBeGreaterThan(20);
  });
});
