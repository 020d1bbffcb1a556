import { appendFileSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../src/logger.js';
import { encodeRecords, parseRecords, type SpoolRecord } from '../src/spool/record-format.js';
import { openSpool, type Spool } from '../src/spool/spool.js';
import { captureLogger } from './helpers.js';

const dir = () => mkdtempSync(join(tmpdir(), 'sdk-spool-unit-'));
const records = (from: number, count: number): SpoolRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    eventId: `00000000-0000-7000-8000-${String(from + i).padStart(12, '0')}`,
    key: `customer-ü-${(from + i) % 3}`,
    value: Buffer.from(`value-${from + i}`),
  }));

async function readAll(spool: Spool, maxRecords = 7): Promise<SpoolRecord[]> {
  const out: SpoolRecord[] = [];
  for (
    let batch = await spool.read(maxRecords, 1 << 20);
    batch;
    batch = await spool.read(maxRecords, 1 << 20)
  ) {
    out.push(...batch.records);
    await spool.ack(batch);
  }
  return out;
}

const plain = (rs: SpoolRecord[]) => rs.map((r) => [r.eventId, r.key, r.value.toString()]);

describe('spool record format', () => {
  it('round-trips id, UTF-8 key and value bytes', () => {
    const rs = records(0, 5);
    const parsed = parseRecords(encodeRecords(rs));
    expect(plain(parsed.records)).toEqual(plain(rs));
    expect(parsed.corruptAt).toBeUndefined();
  });

  it('detects a flipped bit and a cut-off record', () => {
    const buf = encodeRecords(records(0, 3));
    const damaged = Buffer.from(buf);
    damaged[damaged.length - 2]! ^= 0x40;
    const r = parseRecords(damaged);
    expect(r.records).toHaveLength(2);
    expect(r.corruptAt).toBe(r.consumed);
    const cut = parseRecords(buf.subarray(0, buf.length - 3));
    expect(cut.records).toHaveLength(2);
    expect(cut.nextRecordBytes).toBeGreaterThan(0);
  });
});

describe('spool', () => {
  it('gives records back in append order across segments and deletes what was acknowledged', async () => {
    const d = dir();
    const spool = await openSpool({ dir: d, maxBytes: 1 << 20, segmentBytes: 300, logger: silentLogger });
    for (let i = 0; i < 10; i++) await spool.append(records(i * 10, 10));
    expect(spool.pendingRecords).toBe(100);
    expect(readdirSync(d).filter((f) => f.endsWith('.seg')).length).toBeGreaterThan(3);
    expect(plain(await readAll(spool))).toEqual(plain(records(0, 100)));
    expect(spool.pendingRecords).toBe(0);
    expect(readdirSync(d).filter((f) => f !== 'LOCK')).toEqual([]);
    await spool.close();
  });

  it('survives a restart: a new spool on the directory resends only what was not acknowledged', async () => {
    const d = dir();
    const first = await openSpool({ dir: d, maxBytes: 1 << 20, segmentBytes: 400, logger: silentLogger });
    await first.append(records(0, 30));
    await first.append(records(30, 30));
    const batch = (await first.read(12, 1 << 20))!;
    await first.ack(batch);
    await first.close();

    const second = await openSpool({ dir: d, maxBytes: 1 << 20, logger: silentLogger });
    expect(second.pendingRecords).toBe(48);
    await second.append(records(60, 5));
    expect(plain(await readAll(second))).toEqual(plain(records(12, 53)));
    await second.close();
  });

  it('drops a torn last append (crash mid-write) and keeps everything before it', async () => {
    const d = dir();
    const spool = await openSpool({ dir: d, maxBytes: 1 << 20, logger: silentLogger });
    await spool.append(records(0, 20));
    await spool.close();
    const segment = readdirSync(d).find((f) => f.endsWith('.seg'))!;
    const size = statSync(join(d, segment)).size;
    appendFileSync(join(d, segment), encodeRecords(records(20, 1)).subarray(0, 11)); // half a record
    const log = captureLogger();
    const recovered = await openSpool({ dir: d, maxBytes: 1 << 20, logger: log });
    expect(recovered.pendingRecords).toBe(20);
    expect(statSync(join(d, segment)).size).toBe(size);
    expect(log.lines.some((l) => l.level === 'warn' && /truncating/.test(l.msg))).toBe(true);
    expect(plain(await readAll(recovered))).toEqual(plain(records(0, 20)));
    await recovered.close();
  });

  it('refuses appends beyond maxBytes with a retriable spool_full error', async () => {
    const spool = await openSpool({ dir: dir(), maxBytes: 500, logger: silentLogger });
    await spool.append(records(0, 5));
    await expect(spool.append(records(5, 50))).rejects.toMatchObject({ code: 'spool_full', retriable: true });
    expect(spool.pendingRecords).toBe(5);
    await spool.close();
  });

  it('is locked to one owner; a lock left by a dead process is taken over', async () => {
    const d = dir();
    const spool = await openSpool({ dir: d, maxBytes: 1 << 20, logger: silentLogger });
    await expect(openSpool({ dir: d, maxBytes: 1 << 20, logger: silentLogger })).rejects.toMatchObject({
      code: 'spool_locked',
    });
    await spool.close();
    writeFileSync(join(d, 'LOCK'), '999999999'); // no such pid
    const again = await openSpool({ dir: d, maxBytes: 1 << 20, logger: silentLogger });
    await again.close();
  });
});
