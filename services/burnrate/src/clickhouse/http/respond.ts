import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import type { StreamChunk } from 'chdb';
import { toBuffer } from './execute.js';

export type Encoding = 'gzip' | 'deflate' | 'br';

const compress: Record<Encoding, (body: Buffer) => Promise<Buffer>> = {
  gzip: promisify(zlib.gzip),
  deflate: promisify(zlib.deflate),
  br: promisify(zlib.brotliCompress),
};

/** Sends a complete body, compressed when asked, with its length so clients need no chunking. */
export async function sendBuffered(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  encoding: Encoding | undefined,
): Promise<void> {
  const payload = encoding ? await compress[encoding](body) : body;
  if (res.destroyed) return;
  res.writeHead(status, {
    ...headers,
    ...(encoding ? { 'Content-Encoding': encoding } : {}),
    'Content-Length': String(payload.length),
  });
  await endResponse(res, payload);
}

/** Resolves once the response is sent or the client has gone; end()'s own callback may never run on a dead socket. */
function endResponse(res: ServerResponse, payload?: Buffer): Promise<void> {
  return new Promise((resolve) => {
    res.once('finish', resolve);
    res.once('close', resolve);
    res.end(payload);
  });
}

export interface StreamSource {
  first: Buffer | undefined;
  rest: AsyncIterator<StreamChunk>;
  cancel(): void;
}

/** What is done to every piece of output before HTTP compression: ClickHouse's block framing for compress=1. */
export type Framing = (bytes: Buffer) => Buffer;

export interface StreamResult {
  bytes: number;
  /** The error that cut the stream short after the headers were sent, if any. */
  error?: unknown;
  /** The client disconnected before the end. */
  clientClosed: boolean;
}

/**
 * Sends chunks as the engine produces them. An engine error after the headers went out is written
 * the way ClickHouse 25.11+ does — a block fenced by `__exception__` and the random tag announced
 * in X-ClickHouse-Exception-Tag, which @clickhouse/client turns back into an error — and the
 * connection is then closed without the final chunk so no client can take the output as complete.
 */
export async function sendStream(
  res: ServerResponse,
  headers: Record<string, string>,
  source: StreamSource,
  encoding: Encoding | undefined,
  exceptionText: (error: unknown) => string,
  frame: Framing = (bytes) => bytes,
): Promise<StreamResult> {
  const tag = randomBytes(8).toString('hex');
  res.writeHead(200, {
    ...headers,
    ...(encoding ? { 'Content-Encoding': encoding } : {}),
    'X-ClickHouse-Exception-Tag': tag,
  });
  const sink = openSink(res, encoding);
  let bytes = 0;
  try {
    let chunk = source.first;
    while (chunk !== undefined) {
      // the engine computes the next block while this one goes out
      const next = source.rest.next();
      next.catch(() => undefined); // awaited below unless the write fails first
      bytes += chunk.length;
      await sink.write(frame(chunk));
      const result = await next;
      chunk = result.done ? undefined : toBuffer(result.value.raw());
    }
    await sink.end();
    return { bytes, clientClosed: false };
  } catch (error) {
    source.cancel();
    const clientClosed = res.destroyed;
    if (!clientClosed) {
      const message = exceptionText(error).trimEnd();
      const length = Buffer.byteLength(message) + 1;
      await sink.fail(
        frame(
          Buffer.from(`\r\n__exception__\r\n${tag}\r\n${message}\n${length} ${tag}\r\n__exception__\r\n`),
        ),
      );
    }
    return { bytes, error, clientClosed };
  }
}

interface Sink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
  fail(bytes: Buffer): Promise<void>;
}

function openSink(res: ServerResponse, encoding: Encoding | undefined): Sink {
  if (!encoding) {
    return {
      write: (chunk) => writeWithBackpressure(res, res, chunk),
      end: () => endResponse(res),
      fail: async (bytes) => {
        await writeWithBackpressure(res, res, bytes);
        breakConnection(res);
      },
    };
  }
  const compressor =
    encoding === 'gzip'
      ? zlib.createGzip()
      : encoding === 'deflate'
        ? zlib.createDeflate()
        : zlib.createBrotliCompress();
  const piped = pipeline(compressor, res).catch(() => {
    // the client went away; writes below notice res.destroyed
  });
  return {
    write: (chunk) => writeWithBackpressure(res, compressor, chunk),
    end: async () => {
      compressor.end();
      await piped;
    },
    fail: async (bytes) => {
      compressor.write(bytes);
      await new Promise<void>((resolve) => compressor.flush(() => resolve()));
      // the flushed bytes reach res on the pipe's next turn
      await new Promise((resolve) => setImmediate(resolve));
      breakConnection(res);
    },
  };
}

/** Waits for `target` to drain, or gives up when the client disconnects. */
async function writeWithBackpressure(res: ServerResponse, target: Writable, chunk: Buffer): Promise<void> {
  if (res.destroyed) throw new Error('The client closed the connection');
  if (target.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      target.off('drain', onDrain);
      reject(new Error('The client closed the connection'));
    };
    target.once('drain', onDrain);
    res.once('close', onClose);
  });
}

/** Ends the socket after what was written, so the response never gets its terminating chunk. */
function breakConnection(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) return;
  socket.end();
  setTimeout(() => socket.destroy(), 5_000).unref();
}
