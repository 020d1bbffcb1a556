import { describe, expect, it } from 'vitest';
import { bodyToken, buildInsertBody } from '../../src/roles/ledger/insert-body.js';

const part = (partition: number, values: Array<[string, string | null]>) => ({
  topic: 'usage.enriched',
  partition,
  messages: values.map(([offset, value]) => ({ offset, value: value === null ? null : Buffer.from(value) })),
});

describe('buildInsertBody', () => {
  it('splices each row’s consumed position before its closing bracket, bytes untouched', () => {
    const body = buildInsertBody([
      part(3, [
        ['7', '[1,"a"]\n[2,"é ü 😀 \\n"]'],
        ['8', null],
        ['9', '[3,"c"]'],
      ]),
      part(0, [['41', '[4,"d"]']]),
    ]);
    expect(body.rows).toBe(4);
    expect(body.skipped).toEqual([]);
    expect(body.bytes.toString('utf8')).toBe(
      [
        '[1,"a","usage.enriched",3,7,0]',
        '[2,"é ü 😀 \\n","usage.enriched",3,7,1]',
        '[3,"c","usage.enriched",3,9,0]',
        '[4,"d","usage.enriched",0,41,0]',
        '',
      ].join('\n'),
    );
  });

  it('leaves out exactly the rows the replay guard names, and records them', () => {
    const parts = [part(1, [['5', '[1]\n[2]\n[3]']])];
    const body = buildInsertBody(parts, (p, offset, row) => p === 0 && offset === '5' && row === 1);
    expect(body.bytes.toString()).toBe('[1,"usage.enriched",1,5,0]\n[3,"usage.enriched",1,5,2]\n');
    expect(body.skipped).toEqual(['usage.enriched/1@5:1']);
  });

  it('keeps a line without a closing bracket as a row ClickHouse will refuse (a dead letter, not a loss)', () => {
    const body = buildInsertBody([part(0, [['1', '[1]\n\n{"x":1}']])]);
    expect(body.rows).toBe(3);
    expect(body.bytes.toString()).toBe(
      '[1,"usage.enriched",0,1,0]\n,"usage.enriched",0,1,1]\n{"x":1},"usage.enriched",0,1,2]\n',
    );
  });

  it('grows past its first estimate', () => {
    const rows = Array.from({ length: 5_000 }, () => '[]').join('\n');
    const body = buildInsertBody([part(0, [['123456789012', rows]])]);
    expect(body.rows).toBe(5_000);
    expect(body.bytes.toString().split('\n')[4_999]).toBe('[,"usage.enriched",0,123456789012,4999]');
  });
});

describe('bodyToken', () => {
  it('names the exact rows: the same range gives the same token, any other set another', () => {
    const a = [
      part(0, [
        ['1', '[1]'],
        ['2', '[2]'],
      ]),
    ];
    const token = bodyToken(a, buildInsertBody(a));
    expect(bodyToken(a, buildInsertBody(a))).toBe(token);
    const shorter = [part(0, [['1', '[1]']])];
    expect(bodyToken(shorter, buildInsertBody(shorter))).not.toBe(token);
    const other = [
      part(1, [
        ['1', '[1]'],
        ['2', '[2]'],
      ]),
    ];
    expect(bodyToken(other, buildInsertBody(other))).not.toBe(token);
    expect(
      bodyToken(
        a,
        buildInsertBody(a, (_p, o) => o === '2'),
      ),
    ).not.toBe(token);
  });
});
