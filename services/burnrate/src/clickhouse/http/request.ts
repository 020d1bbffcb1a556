import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ClickHouseException, CODES } from './errors.js';
import { decodeLz4Frames } from './lz4-frame.js';

/** What one HTTP request asks of the engine, read from its URL parameters and headers. */
export interface QueryRequest {
  queryId: string;
  /** The `query` URL parameter; a POST body is appended to it after a newline. */
  queryParam: string | undefined;
  database: string;
  /** Whether the request named its database (parameter or header) rather than falling back to the default. */
  databaseNamed: boolean;
  /** `default_format` parameter or X-ClickHouse-Format header: the format when the query names none. */
  defaultFormat: string | undefined;
  /** ClickHouse settings from URL parameters, to be SET on the request's session. */
  settings: Map<string, string>;
  /** `param_<name>` values as sent: ClickHouse's escaped text form, bound by the engine. */
  params: Map<string, string>;
  /** Buffer the whole result before answering, so a late error still gets a proper status. */
  waitEndOfQuery: boolean;
  /** Content-Encoding for the response, when the client enabled compression and accepts one we speak. */
  responseEncoding: 'gzip' | 'deflate' | 'br' | undefined;
  /** `compress=1`: the response body goes out in ClickHouse's compressed blocks (LZ4). */
  compressResponse: boolean;
  /** `decompress=1`: the request body comes in ClickHouse's compressed blocks. */
  decompressRequest: boolean;
  /** False when `http_native_compression_disable_checksumming_on_decompress=1`. */
  verifyChecksum: boolean;
  /** `session_id`, `session_timeout` (seconds, as sent) and `session_check`; undefined without a session. */
  session: { id: string; timeout: string | undefined; check: boolean } | undefined;
}

/**
 * Parameters the HTTP layer consumes itself rather than passing to the engine as settings; the
 * http_* / send_progress ones are server behaviour that has no meaning inside chDB.
 */
const HTTP_PARAMETERS = new Set([
  'query',
  'compress',
  'decompress',
  'database',
  'default_format',
  'user',
  'password',
  'quota_key',
  'query_id',
  'session_id',
  'session_timeout',
  'session_check',
  'buffer_size',
  'wait_end_of_query',
  'http_wait_end_of_query',
  'stacktrace',
  'role',
  'client_protocol_version',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_buffer_size',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'add_http_cors_header',
  'cancel_http_readonly_queries_on_client_close',
  'http_native_compression_disable_checksumming_on_decompress',
  'http_write_exception_in_output_format',
]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseQueryRequest(request: IncomingMessage, url: URL, defaultDatabase: string): QueryRequest {
  const search = url.searchParams;
  if (header(request, 'content-type')?.toLowerCase().startsWith('multipart/form-data')) {
    throw new ClickHouseException(
      CODES.NOT_IMPLEMENTED,
      'External data (multipart/form-data) is not supported by the embedded server',
    );
  }
  const settings = new Map<string, string>();
  const params = new Map<string, string>();
  for (const [key, value] of search) {
    if (key.startsWith('param_')) {
      const name = key.slice('param_'.length);
      if (!NAME.test(name)) {
        throw new ClickHouseException(
          CODES.BAD_ARGUMENTS,
          `Query parameter name '${name}' is not an identifier`,
        );
      }
      params.set(name, value);
    } else if (HTTP_PARAMETERS.has(key)) {
      // consumed by the HTTP layer
    } else if (NAME.test(key)) {
      settings.set(key, value);
    } else {
      throw new ClickHouseException(CODES.UNKNOWN_SETTING, `Unknown setting '${key}'`);
    }
  }
  const namedDatabase = search.get('database') || header(request, 'x-clickhouse-database');
  const sessionId = search.get('session_id');
  return {
    queryId: search.get('query_id') || randomUUID(),
    queryParam: search.get('query') ?? undefined,
    database: namedDatabase || defaultDatabase,
    databaseNamed: Boolean(namedDatabase),
    session: sessionId
      ? {
          id: sessionId,
          timeout: search.get('session_timeout') ?? undefined,
          check: isTrue(search.get('session_check')),
        }
      : undefined,
    defaultFormat: search.get('default_format') || header(request, 'x-clickhouse-format') || undefined,
    settings,
    params,
    waitEndOfQuery: isTrue(search.get('wait_end_of_query')) || isTrue(search.get('http_wait_end_of_query')),
    compressResponse: isTrue(search.get('compress')),
    decompressRequest: isTrue(search.get('decompress')),
    verifyChecksum: !isTrue(search.get('http_native_compression_disable_checksumming_on_decompress')),
    responseEncoding: isTrue(search.get('enable_http_compression'))
      ? pickEncoding(request.headers['accept-encoding'])
      : undefined,
  };
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isTrue(value: string | null): boolean {
  return value !== null && value !== '0' && value.toLowerCase() !== 'false' && value !== '';
}

/** ClickHouse's preference among the encodings Node can produce: gzip, then deflate, then br. */
function pickEncoding(acceptEncoding: string | undefined): QueryRequest['responseEncoding'] {
  const accepted = new Set(
    (acceptEncoding ?? '')
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .filter((part) => !/;\s*q=0(\.0*)?$/.test(part))
      .map((part) => part.split(';')[0]!.trim()),
  );
  if (accepted.has('gzip')) return 'gzip';
  if (accepted.has('deflate')) return 'deflate';
  if (accepted.has('br')) return 'br';
  return undefined;
}

/**
 * Reads the whole request body, decoded per Content-Encoding, refusing more than `maxBodyBytes`
 * after decoding so a small compressed body cannot inflate without bound.
 */
export async function readBody(request: IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
  const encoding = (header(request, 'content-encoding') ?? 'identity').toLowerCase().trim();
  // lz4 frames are decoded whole, after reading, within the same limit (lz4-frame.ts)
  const decoder = encoding === 'lz4' ? undefined : decoderFor(encoding);
  const tooLarge = () =>
    new ClickHouseException(
      CODES.QUERY_IS_TOO_LARGE,
      `The request body exceeds the server's limit of ${maxBodyBytes} bytes (maxBodyBytes)`,
    );
  if (!decoder && Number(request.headers['content-length'] ?? 0) > maxBodyBytes) throw tooLarge();
  let source: Readable = request;
  if (decoder) {
    request.on('error', (error) => decoder.destroy(error));
    source = request.pipe(decoder);
  }
  const chunks: Buffer[] = [];
  let totalBytes = 0;
  try {
    for await (const chunk of source) {
      totalBytes += (chunk as Buffer).length;
      if (totalBytes > maxBodyBytes) throw tooLarge();
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (decoder) request.unpipe(decoder);
    if (decoder && String((error as NodeJS.ErrnoException).code ?? '').startsWith('Z_')) {
      throw new ClickHouseException(
        CODES.CANNOT_DECOMPRESS,
        `Cannot decode the ${encoding} request body: ${(error as Error).message}`,
        { cause: error },
      );
    }
    throw error;
  }
  const body = Buffer.concat(chunks, totalBytes);
  return encoding === 'lz4' ? decodeLz4Frames(body, maxBodyBytes) : body;
}

function decoderFor(encoding: string) {
  switch (encoding) {
    case 'identity':
    case '':
      return undefined;
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      throw new ClickHouseException(
        CODES.UNSUPPORTED_MEDIA_TYPE,
        `Content-Encoding '${encoding}' is not supported by the embedded server; use gzip, deflate, br or lz4`,
      );
  }
}
