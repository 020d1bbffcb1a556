import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../devstack/src/index.js';
import { createEmitter } from '../src/index.js';
import { consumeAll, createTopic } from './helpers.js';

const brokers = inject('kafkaBrokers');
const child = fileURLToPath(new URL('./fixtures/spooling-child.ts', import.meta.url));

describe('spool after kill -9', () => {
  it('a new emitter on the spool directory delivers every event whose flush() had resolved', async () => {
    const topic = await createTopic(brokers);
    const spoolDir = mkdtempSync(join(tmpdir(), 'sdk-crash-'));
    const proc = spawn(
      process.execPath,
      ['--conditions=@burnrate/source', '--import', 'tsx', child, spoolDir, topic],
      {
        cwd: inject('rootDir'),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      proc.once('exit', (_code, signal) => resolve(signal)),
    );
    const flushedRounds = () => stdout.split('\n').filter((l) => l.startsWith('['));
    await waitFor(
      () => flushedRounds().length >= 4 || proc.exitCode !== null,
      60_000,
      () => new Error(`child flushed ${flushedRounds().length} rounds; stderr: ${stderr}`),
    );
    // Kill at an arbitrary point of a later round: mid-emit, mid-append or mid-fsync.
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
    proc.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const durable = new Set(flushedRounds().flatMap((l) => JSON.parse(l) as string[]));
    expect(durable.size).toBeGreaterThanOrEqual(1_200);

    // The dead child's lock is taken over; its spool is resent to the real broker.
    const resender = await createEmitter({
      brokers: [brokers],
      service: 'resender',
      topic,
      spool: { dir: spoolDir },
    });
    const onDisk = resender.stats().spooled;
    expect(onDisk).toBeGreaterThanOrEqual(durable.size);
    await waitFor(
      () => resender.stats().spooled === 0,
      60_000,
      () => new Error(JSON.stringify(resender.stats())),
    );
    const report = await resender.close();
    expect(report.stats).toMatchObject({ sent: onDisk, failed: 0 });

    const delivered = await consumeAll(brokers, topic);
    const deliveredIds = new Set(delivered.map((m) => m.event.event_id));
    for (const id of durable) expect(deliveredIds.has(id)).toBe(true);
    expect(deliveredIds.size).toBe(onDisk);
    // Whatever else was on disk is the killed round's events: well-formed, from the child.
    for (const m of delivered) expect(m.event.service).toBe('crash-child');
  }, 120_000);
});
