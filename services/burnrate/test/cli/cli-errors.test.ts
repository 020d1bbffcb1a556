import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BurnrateError, ValidationError } from '@burnrate/core';
import { KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { fencedOrAsIs } from '../../src/cli/dlq.js';
import { readTopic } from '../../src/cli/dlq-topic.js';
import { writeFileAtomically } from '../../src/cli/kit/atomic-file.js';
import { exitCodeFor } from '../../src/cli/program.js';
import { runCliToExitCode } from '../../src/cli/run-cli.js';
import { httpUrl, urlHost } from '../../src/runtime/http-url.js';
import { testKafka, uniquePrefix } from '../fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'burnrate-cli-errors-'));
const kafka = testKafka();

describe('CLI errors: one sentence and the right exit code', () => {
  it('ClickHouse down in `top` exits 1 (retriable), with one sentence naming the setting', async () => {
    const err: string[] = [];
    const output = { out: () => {}, err: (t: string) => err.push(t), interactive: false };
    vi.stubEnv('CLICKHOUSE_URL', 'http://127.0.0.1:1'); // `top` reads process.env
    try {
      expect(await runCliToExitCode(['top', 'customers'], { onSignal: () => {} }, output)).toBe(1);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(err.join('')).toMatch(/^burnrate: .*check that ClickHouse is up or fix CLICKHOUSE_URL\.\n$/);
  });

  it('--out naming a directory is a ValidationError on --out (exit 2), leaving no temporary file', async () => {
    const target = join(dir, 'a-dir');
    mkdirSync(target);
    for (const out of [target, `${target}/`]) {
      const error = await writeFileAtomically(out, 'x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/^--out .* is a directory/);
      expect(exitCodeFor(error)).toBe(2);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--out keeps an existing file’s mode and gives a new one 0644', async () => {
    const existing = join(dir, 'existing.csv');
    writeFileSync(existing, 'old', { mode: 0o600 });
    await writeFileAtomically(existing, 'new');
    expect(readFileSync(existing, 'utf8')).toBe('new');
    expect(statSync(existing).mode & 0o777).toBe(0o600);
    const fresh = join(dir, 'fresh.csv');
    await writeFileAtomically(fresh, 'x');
    expect(statSync(fresh).mode & 0o777).toBe(0o644);
  });

  it('a fenced requeue (a KafkaJS error on send or commit) is one retriable sentence', () => {
    const fenced = new KafkaJSProtocolError({
      message: 'There is a newer producer with the same transactionalId which fences the current one',
      type: 'INVALID_PRODUCER_EPOCH',
      code: 47,
      retriable: false,
    } as unknown as Error);
    const e = fencedOrAsIs(fenced, 'usage.dlq');
    expect(e).toBeInstanceOf(BurnrateError);
    expect(exitCodeFor(e)).toBe(1);
    expect((e as Error).message).toMatch(/^The requeue from usage\.dlq was interrupted .*concurrent requeue/);
    const bug = new TypeError('bug');
    expect(fencedOrAsIs(bug, 'usage.dlq')).toBe(bug);
  });

  it('a topic read that does not catch up in time is a retriable BurnrateError, not a stack', async () => {
    const topic = `${uniquePrefix()}slow`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'x' }] });
    await producer.disconnect();
    const error = await readTopic(kafka, topic, () => {}, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BurnrateError);
    expect((error as BurnrateError).code).toBe('kafka_read_timeout');
    expect(exitCodeFor(error)).toBe(1);
  }, 30_000);
});

describe('httpUrl with IPv6 zone ids', () => {
  it('encodes the zone id’s % as %25 inside the brackets, making a valid URL', () => {
    expect(urlHost('fe80::1%eth0')).toBe('[fe80::1%25eth0]');
    expect(urlHost('[fe80::1%eth0]')).toBe('[fe80::1%25eth0]');
    expect(urlHost('fe80::1%25eth0')).toBe('[fe80::1%25eth0]');
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('[::1]')).toBe('[::1]');
    expect(urlHost('localhost')).toBe('localhost');
    // RFC 6874's form; note that WHATWG URL (Node's URL, fetch) rejects zone ids in any form.
    expect(httpUrl('fe80::1%eth0', 8123)).toBe('http://[fe80::1%25eth0]:8123');
    expect(existsSync(dir)).toBe(true);
  });
});
