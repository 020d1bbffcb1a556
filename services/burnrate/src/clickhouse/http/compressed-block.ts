import { compressSync, uncompressSync } from 'lz4-napi';
import { cityHash128Bytes } from './cityhash.js';
import { ClickHouseException, CODES } from './errors.js';

/**
 * ClickHouse's compressed block framing, what `compress=1` (responses) and `decompress=1` (request
 * bodies) mean on its HTTP interface and what the JDBC driver and clickhouse-connect speak:
 *
 *   16 bytes  CityHash128 (v1.0.2) of everything after it in the block
 *    1 byte   method: 0x82 LZ4, 0x02 none
 *    UInt32   compressed size, little-endian, including this 9-byte header
 *    UInt32   uncompressed size, little-endian
 *    …        the payload (an LZ4 block, or the bytes themselves)
 */
export const METHOD = { NONE: 0x02, LZ4: 0x82 } as const;

const CHECKSUM_BYTES = 16;
const HEADER_BYTES = 9;
/** ClickHouse's DBMS_MAX_COMPRESSED_SIZE: a block declaring more is refused before anything is read. */
export const MAX_BLOCK_BYTES = 0x40000000;
/** What ClickHouse's CompressedWriteBuffer puts in one block (max_compress_block_size). */
export const BLOCK_BYTES = 1024 * 1024;

const METHOD_NAMES = new Map<number, string>([
  [0x90, 'ZSTD'],
  [0x91, 'Multiple'],
  [0x92, 'Delta'],
  [0x93, 'T64'],
  [0x94, 'DoubleDelta'],
  [0x95, 'Gorilla'],
]);

/** `data` as compressed blocks of at most BLOCK_BYTES each; nothing at all for empty data, as ClickHouse writes. */
export function encodeBlocks(data: Uint8Array, method: number = METHOD.LZ4): Buffer {
  const blocks: Buffer[] = [];
  for (let at = 0; at < data.length; at += BLOCK_BYTES) {
    blocks.push(encodeBlock(data.subarray(at, at + BLOCK_BYTES), method));
  }
  return Buffer.concat(blocks);
}

export function encodeBlock(data: Uint8Array, method: number = METHOD.LZ4): Buffer {
  // lz4-napi prepends the uncompressed size (UInt32 LE) to a raw LZ4 block; the frame carries it instead
  const payload =
    method === METHOD.LZ4
      ? compressSync(Buffer.from(data.buffer, data.byteOffset, data.byteLength)).subarray(4)
      : data;
  const block = Buffer.alloc(CHECKSUM_BYTES + HEADER_BYTES + payload.length);
  block[CHECKSUM_BYTES] = method;
  block.writeUInt32LE(HEADER_BYTES + payload.length, CHECKSUM_BYTES + 1);
  block.writeUInt32LE(data.length, CHECKSUM_BYTES + 5);
  block.set(payload, CHECKSUM_BYTES + HEADER_BYTES);
  cityHash128Bytes(block.subarray(CHECKSUM_BYTES)).copy(block, 0);
  return block;
}

export interface DecodeOptions {
  /** Refuse once the decompressed total would pass this many bytes. */
  maxBytes: number;
  /** http_native_compression_disable_checksumming_on_decompress=1 skips the checksum, as on a server. */
  verifyChecksum?: boolean;
}

/**
 * A body of compressed blocks back to its bytes. Every block is checked — method, declared sizes
 * against the limits and what is really there, checksum, the LZ4 payload's true length — before it
 * is decompressed, so a hostile body gets one clear exception and nothing reaches the engine.
 */
export function decodeBlocks(body: Uint8Array, options: DecodeOptions): Buffer {
  const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const parts: Buffer[] = [];
  let total = 0;
  let at = 0;
  while (at < buffer.length) {
    if (buffer.length - at < CHECKSUM_BYTES + HEADER_BYTES) {
      throw new ClickHouseException(
        CODES.CANNOT_READ_ALL_DATA,
        `Cannot read all data: the compressed block at byte ${at} is truncated (${buffer.length - at} bytes, a header alone is ${CHECKSUM_BYTES + HEADER_BYTES})`,
      );
    }
    const header = at + CHECKSUM_BYTES;
    const method = buffer[header]!;
    const compressedSize = buffer.readUInt32LE(header + 1);
    const size = buffer.readUInt32LE(header + 5);
    if (method !== METHOD.LZ4 && method !== METHOD.NONE) {
      const name = METHOD_NAMES.get(method);
      throw new ClickHouseException(
        CODES.UNKNOWN_COMPRESSION_METHOD,
        `Unknown compression method 0x${method.toString(16).padStart(2, '0')}${name ? ` (${name}, which the embedded server does not decode)` : ''}: the embedded server reads LZ4 (0x82) and none (0x02)`,
      );
    }
    if (compressedSize < HEADER_BYTES || compressedSize > MAX_BLOCK_BYTES || size > MAX_BLOCK_BYTES) {
      throw new ClickHouseException(
        CODES.TOO_LARGE_SIZE_COMPRESSED,
        `Too large size_compressed_without_checksum: ${compressedSize}, size_decompressed: ${size}. Most likely corrupted data`,
      );
    }
    if (total + size > options.maxBytes) {
      throw new ClickHouseException(
        CODES.QUERY_IS_TOO_LARGE,
        `The decompressed request body exceeds the server's limit of ${options.maxBytes} bytes (maxBodyBytes)`,
      );
    }
    const end = header + compressedSize;
    if (end > buffer.length) {
      throw new ClickHouseException(
        CODES.CANNOT_READ_ALL_DATA,
        `Cannot read all data: the compressed block at byte ${at} declares ${compressedSize} bytes, ${buffer.length - header} are there`,
      );
    }
    if (options.verifyChecksum !== false) {
      const expected = buffer.subarray(at, header);
      if (!cityHash128Bytes(buffer.subarray(header, end)).equals(expected)) {
        throw new ClickHouseException(
          CODES.CHECKSUM_DOESNT_MATCH,
          `Checksum doesn't match: corrupted data. Reference: ${expected.toString('hex')}, the block at byte ${at} of ${compressedSize} bytes hashes otherwise`,
        );
      }
    }
    const payload = buffer.subarray(header + HEADER_BYTES, end);
    parts.push(
      method === METHOD.LZ4 ? decompressLz4(payload, size, at) : uncompressedPayload(payload, size, at),
    );
    total += size;
    at = end;
  }
  return Buffer.concat(parts, total);
}

function decompressLz4(payload: Buffer, size: number, at: number): Buffer {
  const sized = Buffer.alloc(4 + payload.length);
  sized.writeUInt32LE(size, 0);
  payload.copy(sized, 4);
  let out: Buffer;
  try {
    out = uncompressSync(sized);
  } catch (error) {
    throw new ClickHouseException(
      CODES.CANNOT_DECOMPRESS,
      `Cannot decompress the LZ4 block at byte ${at}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (out.length !== size) {
    throw new ClickHouseException(
      CODES.CANNOT_DECOMPRESS,
      `Cannot decompress the LZ4 block at byte ${at}: it declares ${size} bytes and holds ${out.length}`,
    );
  }
  return out;
}

function uncompressedPayload(payload: Buffer, size: number, at: number): Buffer {
  if (payload.length !== size) {
    throw new ClickHouseException(
      CODES.CANNOT_DECOMPRESS,
      `The uncompressed block at byte ${at} declares ${size} bytes and holds ${payload.length}`,
    );
  }
  return payload;
}
