import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { SpoolError } from '../errors.js';
import type { Logger } from '../logger.js';
import { encodeRecords, parseRecords, RECORD_HEADER_BYTES, type SpoolRecord } from './record-format.js';
import { lockSpoolDir } from './spool-lock.js';

export interface SpoolOptions {
  dir: string;
  /** Most bytes of segment files on disk; append() beyond it throws SpoolError('spool_full'). */
  maxBytes: number;
  /** A new segment file is started once the current one reaches this size. */
  segmentBytes?: number;
  logger: Logger;
}

/** Records read for sending; hand it back to ack() once Kafka has them. */
export interface SpoolBatch {
  readonly records: SpoolRecord[];
  readonly segment: number;
  readonly end: number;
}

export interface Spool {
  /** Records on disk not yet acknowledged. */
  readonly pendingRecords: number;
  readonly bytes: number;
  /** Appends and fsyncs: once it resolves the records survive a crash. */
  append(records: readonly SpoolRecord[]): Promise<void>;
  /** The oldest unacknowledged records, in append order; undefined when there are none. */
  read(maxRecords: number, maxBytes: number): Promise<SpoolBatch | undefined>;
  ack(batch: SpoolBatch): Promise<void>;
  close(): Promise<void>;
}

interface Segment {
  seq: number;
  size: number;
}

const SEGMENT = /^(\d{20})\.seg$/;
const name = (seq: number) => `${String(seq).padStart(20, '0')}.seg`;

/**
 * An append-only set of segment files holding events that could not be sent. The drainer reads
 * them back in order and acknowledges them; fully acknowledged segments are deleted, and a
 * `cursor` file remembers how far into the oldest segment Kafka has acknowledged so a restart
 * resends little. The cursor is written without fsync on purpose: a stale cursor only causes a
 * resend of events Kafka already has, which event_id deduplication absorbs.
 */
export async function openSpool(options: SpoolOptions): Promise<Spool> {
  const { dir, logger } = options;
  const segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024;
  await mkdir(dir, { recursive: true });
  const unlock = lockSpoolDir(dir);
  const segments: Segment[] = [];
  let pending = 0;
  let bytes = 0;
  let ackSegment = 0;
  let ackOffset = 0;
  let lastSeq = 0;
  let writer: { handle: FileHandle; segment: Segment } | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;

  const io = (what: string, error: unknown) =>
    new SpoolError('spool_io', `Spool ${what} in ${dir} failed: ${(error as Error).message}`, {
      retriable: true,
      cause: error,
    });
  // Appends and acks touch the same files; run them one at a time.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  };

  try {
    const cursor = await readFile(join(dir, 'cursor'), 'utf8').catch(() => '');
    const [cursorSeq, cursorOffset] = cursor.trim().split(' ').map(Number);
    const seqs = (await readdir(dir))
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      lastSeq = seq;
      if (cursorSeq !== undefined && seq < cursorSeq) {
        await rm(join(dir, name(seq)), { force: true });
        continue;
      }
      const data = await readFile(join(dir, name(seq)));
      const from = seq === cursorSeq && cursorOffset! <= data.length ? cursorOffset! : 0;
      const parsed = parseRecords(data.subarray(from));
      const good = from + parsed.consumed;
      if (good < data.length) {
        // A torn last append (crash mid-write) or damage: keep what checks out, drop the rest.
        logger.warn(
          {
            spoolDir: dir,
            segment: name(seq),
            droppedBytes: data.length - good,
            corrupt: parsed.corruptAt !== undefined,
          },
          'Spool segment has an incomplete or damaged tail; truncating it',
        );
        await truncate(join(dir, name(seq)), good);
      }
      lastSeq = seq;
      if (parsed.records.length === 0) {
        // Fully acknowledged (or empty) segment left by an earlier run: nothing to resend.
        await rm(join(dir, name(seq)), { force: true });
        continue;
      }
      if (segments.length === 0) {
        ackSegment = seq;
        ackOffset = from;
      }
      segments.push({ seq, size: good });
      pending += parsed.records.length;
      bytes += good;
    }
  } catch (error) {
    unlock();
    throw error instanceof SpoolError ? error : io('recovery', error);
  }
  if (pending > 0) logger.info({ spoolDir: dir, events: pending }, 'Spool holds events from an earlier run');

  async function append(records: readonly SpoolRecord[]): Promise<void> {
    if (records.length === 0) return;
    const buf = encodeRecords(records);
    await serial(async () => {
      if (closed) throw new SpoolError('spool_io', `The spool in ${dir} is closed.`, { retriable: false });
      if (bytes + buf.length > options.maxBytes) {
        throw new SpoolError(
          'spool_full',
          `The spool in ${dir} holds ${bytes} bytes and ${buf.length} more would pass spool.maxBytes (${options.maxBytes}).`,
          { retriable: true },
        );
      }
      if (!writer || writer.segment.size >= segmentBytes) await roll();
      const w = writer!;
      try {
        let done = 0;
        while (done < buf.length)
          done += (await w.handle.write(buf, done, buf.length - done, w.segment.size + done)).bytesWritten;
        await w.handle.datasync();
      } catch (error) {
        // Leave no half record behind; if even that fails, never write to this file again.
        await w.handle.truncate(w.segment.size).catch(() => {
          writer = undefined;
          void w.handle.close().catch(() => {});
        });
        throw io('append', error);
      }
      w.segment.size += buf.length;
      bytes += buf.length;
      pending += records.length;
    });
  }

  async function roll(): Promise<void> {
    await writer?.handle.close().catch(() => {});
    const seq = ++lastSeq;
    try {
      const handle = await open(join(dir, name(seq)), 'wx');
      // The new file's directory entry must be durable too, or an fsynced record can vanish.
      const dirHandle = await open(dir, 'r');
      await dirHandle.sync().finally(() => dirHandle.close());
      const segment = { seq, size: 0 };
      if (segments.length === 0) {
        ackSegment = seq;
        ackOffset = 0;
      }
      segments.push(segment);
      writer = { handle, segment };
    } catch (error) {
      writer = undefined;
      throw io('segment creation', error);
    }
  }

  async function read(maxRecords: number, maxBytes: number): Promise<SpoolBatch | undefined> {
    const segment = segments.find((s) => s.seq === ackSegment);
    if (!segment || pending === 0) return undefined;
    if (ackOffset >= segment.size) return undefined;
    const handle = await open(join(dir, name(segment.seq)), 'r');
    try {
      let length = Math.min(segment.size - ackOffset, maxBytes + 64 * 1024);
      for (;;) {
        const buf = Buffer.allocUnsafe(length);
        const { bytesRead } = await handle.read(buf, 0, length, ackOffset);
        const parsed = parseRecords(buf.subarray(0, bytesRead), maxRecords, maxBytes);
        if (parsed.records.length > 0) {
          return { records: parsed.records, segment: segment.seq, end: ackOffset + parsed.consumed };
        }
        if (parsed.nextRecordBytes === undefined || parsed.nextRecordBytes <= length) {
          throw new SpoolError(
            'spool_corrupt',
            `Spool segment ${name(segment.seq)} is damaged at byte ${ackOffset}.`,
            {
              retriable: false,
            },
          );
        }
        length = parsed.nextRecordBytes; // one record larger than the read size: read exactly it
      }
    } finally {
      await handle.close();
    }
  }

  function ack(batch: SpoolBatch): Promise<void> {
    return serial(async () => {
      if (closed || batch.segment !== ackSegment || batch.end <= ackOffset) return;
      pending -= batch.records.length;
      ackOffset = batch.end;
      const segment = segments[0]!;
      if (ackOffset >= segment.size && (pending === 0 || writer?.segment !== segment)) {
        if (writer?.segment === segment) {
          await writer.handle.close().catch(() => {});
          writer = undefined;
        }
        segments.shift();
        bytes -= segment.size;
        await rm(join(dir, name(segment.seq)), { force: true });
        ackSegment = segments[0]?.seq ?? lastSeq + 1;
        ackOffset = 0;
      }
      try {
        if (pending === 0) await rm(join(dir, 'cursor'), { force: true });
        else {
          await writeFile(join(dir, 'cursor.tmp'), `${ackSegment} ${ackOffset}\n`);
          await rename(join(dir, 'cursor.tmp'), join(dir, 'cursor'));
        }
      } catch (error) {
        logger.warn(
          { err: error, spoolDir: dir },
          'Could not record the spool cursor; a restart would resend more',
        );
      }
    });
  }

  function close(): Promise<void> {
    return serial(async () => {
      if (closed) return;
      closed = true;
      await writer?.handle.close().catch(() => {});
      writer = undefined;
      unlock();
    });
  }

  return {
    get pendingRecords() {
      return pending;
    },
    get bytes() {
      return bytes;
    },
    append,
    read,
    ack,
    close,
  };
}

export { RECORD_HEADER_BYTES };
