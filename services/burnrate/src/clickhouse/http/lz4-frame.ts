import { decompressFrameSync } from 'lz4-napi';
import { ClickHouseException, CODES } from './errors.js';

/**
 * `Content-Encoding: lz4` request bodies: the LZ4 *frame* format (lz4.org's, what clickhouse-connect
 * compresses inserts with by default), not ClickHouse's block framing. lz4-napi decodes the frame
 * and checks its header, block and content checksums, but has no output limit, so the frame's
 * block headers are walked first: every block decodes to at most the frame's declared block size,
 * which bounds the output before a byte is decompressed.
 */
const MAGIC = 0x184d2204;
const BLOCK_MAX = new Map([
  [4, 64 * 1024],
  [5, 256 * 1024],
  [6, 1024 * 1024],
  [7, 4 * 1024 * 1024],
]);

export function decodeLz4Frames(body: Buffer, maxBytes: number): Buffer {
  const { bound, ends } = walkFrames(body);
  if (bound > maxBytes) {
    throw new ClickHouseException(
      CODES.QUERY_IS_TOO_LARGE,
      `The lz4 request body may decompress to ${bound} bytes, over the server's limit of ${maxBytes} bytes (maxBodyBytes)`,
    );
  }
  // lz4-napi decodes one frame per call; a body may be several (one per block a client streams)
  const parts: Buffer[] = [];
  let start = 0;
  for (const end of ends) {
    try {
      parts.push(decompressFrameSync(body.subarray(start, end)));
    } catch (error) {
      throw corrupt(`the frame at byte ${start}: ${(error as Error).message}`, error);
    }
    start = end;
  }
  return Buffer.concat(parts);
}

/**
 * Where each frame in `body` ends and the most they can decompress to; throws on anything that is
 * not well-formed framing.
 */
function walkFrames(body: Buffer): { bound: number; ends: number[] } {
  let at = 0;
  let bound = 0;
  const ends: number[] = [];
  if (body.length === 0) throw corrupt('the body is empty');
  while (at < body.length) {
    need(body, at, 7);
    if (body.readUInt32LE(at) !== MAGIC) throw corrupt(`no LZ4 frame magic number at byte ${at}`);
    const flags = body[at + 4]!;
    const blockMax = BLOCK_MAX.get((body[at + 5]! >> 4) & 0x7);
    if (flags >> 6 !== 1 || blockMax === undefined)
      throw corrupt(`unsupported LZ4 frame descriptor at byte ${at}`);
    if (flags & 0x01) throw corrupt('LZ4 frames with a dictionary are not supported');
    const blockChecksum = (flags & 0x10) !== 0;
    const contentChecksum = (flags & 0x04) !== 0;
    at += 4 + 2 + (flags & 0x08 ? 8 : 0) + 1;
    for (;;) {
      need(body, at, 4);
      const word = body.readUInt32LE(at);
      at += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (size > blockMax) throw corrupt(`a block of ${size} bytes in a frame of ${blockMax}-byte blocks`);
      at += size + (blockChecksum ? 4 : 0);
      need(body, at, 0);
      bound += blockMax;
    }
    at += contentChecksum ? 4 : 0;
    need(body, at, 0);
    ends.push(at);
  }
  return { bound, ends };
}

function need(body: Buffer, at: number, bytes: number): void {
  if (at + bytes > body.length) throw corrupt('the body ends inside an LZ4 frame');
}

function corrupt(reason: string, cause?: unknown): ClickHouseException {
  return new ClickHouseException(CODES.CANNOT_DECOMPRESS, `Cannot decode the lz4 request body: ${reason}`, {
    cause,
  });
}
