import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import type { ApiError } from '@burnrate/core';

/** An answer that is not 2xx: the status, a stable code and one sentence that says what to fix. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Seconds, for 429 and 503. */
    readonly retryAfter?: number,
    /** More of the answer beside `error`, e.g. the event_ids a retry should reuse. */
    readonly extra?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): ApiError & Record<string, unknown> {
    return {
      error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) },
      ...this.extra,
    };
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(
    res,
    error.status,
    error.body(),
    error.retryAfter ? { 'Retry-After': String(error.retryAfter) } : {},
  );
}

/** The media type without parameters, lower case; '' when absent. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The bearer token of the Authorization header (or X-API-Key), or null. */
export function bearerToken(req: IncomingMessage): string | null {
  const auth = req.headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1]! : null;
  }
  const key = req.headers['x-api-key'];
  return typeof key === 'string' && key !== '' ? key : null;
}

/**
 * The request body, decompressed (Content-Encoding gzip or deflate, as OTLP exporters send), at most
 * `maxBytes` after decompression — so a small compressed bomb is refused like a large body.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  const tooLarge = () =>
    new HttpError(
      413,
      'body_too_large',
      `The request body is larger than ${maxBytes} bytes (INGEST_MAX_BODY_BYTES); send fewer events per request.`,
    );
  if (declared > maxBytes) {
    req.resume();
    throw tooLarge();
  }
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  let source: NodeJS.ReadableStream = req;
  // pipeline(), not pipe(): a client that disconnects mid-body must end the read with an error, not
  // leave it waiting for a decompressed end that never comes.
  if (encoding === 'gzip' || encoding === 'x-gzip') source = pipeline(req, createGunzip(), () => {});
  else if (encoding === 'deflate') source = pipeline(req, createInflate(), () => {});
  else if (encoding !== 'identity') {
    req.resume();
    throw new HttpError(
      415,
      'unsupported_encoding',
      `Content-Encoding ${encoding} is not supported; send gzip, deflate or none.`,
      'Content-Encoding',
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        req.resume();
        throw tooLarge();
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(
      400,
      'invalid_body',
      `The request body could not be read: ${(error as Error).message}.`,
    );
  }
  return Buffer.concat(chunks, size);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 strictly: invalid bytes are an error, never replacement characters. */
export function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new HttpError(400, 'invalid_utf8', 'The request body is not valid UTF-8.');
  }
}
