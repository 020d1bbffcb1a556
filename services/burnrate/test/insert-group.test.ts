import { describe, expect, it } from 'vitest';
import { InsertGroups } from '../src/roles/ledger/insert-group.js';

describe('InsertGroups', () => {
  it('writes everything joined in the same turn once, and later joins in a new group', async () => {
    const writes: number[][] = [];
    const groups = new InsertGroups(async (parts: number[]) => {
      writes.push(parts);
      return parts.length;
    });
    const first = await Promise.all([
      groups.join(1),
      groups.join(2),
      Promise.resolve().then(() => groups.join(3)),
    ]);
    expect(first).toEqual([3, 3, 3]);
    expect(await groups.join(4)).toBe(1);
    expect(writes).toEqual([[1, 2, 3], [4]]);
  });

  it('fails every member of a group whose write fails, and the next group starts clean', async () => {
    let fail = true;
    const groups = new InsertGroups(async (parts: string[]) => {
      if (fail) throw new Error(`write of ${parts.join('+')} failed`);
      return parts.join('+');
    });
    const results = await Promise.allSettled([groups.join('a'), groups.join('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason.message).toBe('write of a+b failed');
    fail = false;
    expect(await groups.join('c')).toBe('c');
  });
});
