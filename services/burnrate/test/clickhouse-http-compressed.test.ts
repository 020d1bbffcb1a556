import { compressFrameSync } from 'lz4-napi';
import { describe, expect, it } from 'vitest';
import { cityHash128, cityHash128Bytes } from '../src/clickhouse/http/cityhash.js';
import {
  BLOCK_BYTES,
  decodeBlocks,
  encodeBlock,
  encodeBlocks,
  METHOD,
} from '../src/clickhouse/http/compressed-block.js';
import { decodeLz4Frames } from '../src/clickhouse/http/lz4-frame.js';
import { LZ4_CLI_FRAME, LZ4_ROWS } from './clickhouse-http-lz4-fixture.js';

/**
 * CityHash128 (v1.0.2) of bytes (i * 31 + 7) & 255, i < length, as [length, low64, high64] in hex —
 * computed with com.clickhouse.data.ClickHouseCityHash.cityHash128 from the official JDBC driver
 * 0.10.0 (Maven Central), the function the driver checks ClickHouse's block checksums with.
 * The lengths cover every branch: 0, 1–3, 4–8, 9–16, 17–127 (CityMurmur), 128+ with each tail.
 */
const JAVA_VECTORS: Array<[number, string, string]> = [
  [0, '3df09dfc64c09a2b', '3cb540c392e51e29'],
  [2, '701c733aee3382d4', 'ba4eae41e0e6dc7a'],
  [4, '905dcb2063ae124f', '57fd5b5954a593c5'],
  [7, 'd7ba2459ab7c2913', '53dd430b513ca460'],
  [9, '338434c54a2565e1', '1001bbb07bd33771'],
  [15, 'd956065c63d9ab15', '9623caadd0037b73'],
  [17, 'aee34bf68bb2e0a2', 'e0d6910555f00b87'],
  [31, '9b7f93e5ecfaed63', 'd646e40154fb0d6b'],
  [33, '4e495b057af3b520', 'abae1d24f18410b5'],
  [48, 'cb21af715db97e2d', '4d6fcd030324bbb9'],
  [64, 'e225cf33b373dc02', '8d252ce5152d6d96'],
  [100, '49c189a397bdadee', 'e8155bdfd58d3d3'],
  [128, 'ba863c0c70f32346', '24b156fc6f3c170a'],
  [143, '59abee69ce16e6a3', '83e91d7a8903bfbe'],
  [160, '5cb38c23f218820b', '28eec84c96793879'],
  [192, '45c173eb249e540e', '64bcb83693c2d72b'],
  [200, '67b5c9a4f885f24b', 'b4a0f54a58082487'],
  [255, 'c87d0f456f6a514b', 'f35b13ec94eb8a52'],
  [256, 'b1cfa883f958dcfa', '39f0dfb3be182292'],
  [257, 'd4cb7b11f9ef2055', 'ae5243f6dbcd4c28'],
  [300, 'ad7d1f77d7e62c5', '702d3372375ccf2'],
  [1000, '597ff4957972ad7e', '7f39a4abd7c010e1'],
  [4096, '1bd11ecfd108678f', '723d5024904233bb'],
];

const pattern = (length: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 255);
const exception = (code: number) => expect.objectContaining({ exceptionCode: code });
const limits = { maxBytes: 64 * 1024 * 1024 };

describe('CityHash128 v1.0.2', () => {
  it.each(JAVA_VECTORS)('matches the JDBC driver for %i bytes', (length, low, high) => {
    const [l, h] = cityHash128(pattern(length));
    expect([l.toString(16), h.toString(16)]).toEqual([low, high]);
  });
});

describe('compressed blocks', () => {
  const text = Buffer.from('SELECT 1\n'.repeat(1000));

  it('round-trips LZ4 and uncompressed blocks, and writes the header ClickHouse reads', () => {
    const block = encodeBlock(text);
    expect(block[16]).toBe(METHOD.LZ4);
    expect(block.readUInt32LE(17)).toBe(block.length - 16);
    expect(block.readUInt32LE(21)).toBe(text.length);
    expect(block.length).toBeLessThan(text.length / 10);
    expect(decodeBlocks(block, limits).equals(text)).toBe(true);
    const plain = encodeBlock(text, METHOD.NONE);
    expect(plain.length).toBe(16 + 9 + text.length);
    expect(decodeBlocks(plain, limits).equals(text)).toBe(true);
  });

  it('splits large data into 1 MiB blocks and joins them back; empty data is no block at all', () => {
    const big = Buffer.from(pattern(BLOCK_BYTES * 2 + 5));
    const blocks = encodeBlocks(big);
    expect(decodeBlocks(blocks, limits).equals(big)).toBe(true);
    expect(blocks.readUInt32LE(21)).toBe(BLOCK_BYTES);
    expect(encodeBlocks(Buffer.alloc(0)).length).toBe(0);
    expect(decodeBlocks(Buffer.alloc(0), limits).length).toBe(0);
  });

  it('refuses a block whose checksum does not match (40), unless checksumming is off', () => {
    const block = encodeBlock(text);
    block[block.length - 1]! ^= 0x01;
    expect(() => decodeBlocks(block, limits)).toThrow(exception(40));
    const plain = encodeBlock(text, METHOD.NONE);
    plain[30]! ^= 0x01;
    expect(() => decodeBlocks(plain, limits)).toThrow(exception(40));
    // negative control: the same block is accepted when the client turned checksumming off
    const decoded = decodeBlocks(plain, { ...limits, verifyChecksum: false });
    expect(decoded.length).toBe(text.length);
    expect(decoded.equals(text)).toBe(false);
  });

  it('refuses truncated input (33): a short header, or a block shorter than it declares', () => {
    const block = encodeBlock(text);
    expect(() => decodeBlocks(block.subarray(0, 20), limits)).toThrow(exception(33));
    expect(() => decodeBlocks(block.subarray(0, block.length - 1), limits)).toThrow(exception(33));
    expect(() => decodeBlocks(Buffer.concat([block, block.subarray(0, 30)]), limits)).toThrow(exception(33));
  });

  it('refuses an unknown method byte (89), naming ZSTD when that is what came', () => {
    const block = encodeBlock(text);
    block[16] = 0x90;
    expect(() => decodeBlocks(block, limits)).toThrow(/ZSTD/);
    block[16] = 0x42;
    expect(() => decodeBlocks(block, limits)).toThrow(exception(89));
  });

  it('refuses oversized declared sizes before reading or allocating (39, 229)', () => {
    const block = encodeBlock(text);
    block.writeUInt32LE(0x7fffffff, 17);
    expect(() => decodeBlocks(block, limits)).toThrow(exception(39));
    const tooSmall = encodeBlock(text);
    tooSmall.writeUInt32LE(3, 17);
    expect(() => decodeBlocks(tooSmall, limits)).toThrow(exception(39));
    const inflated = encodeBlock(text);
    inflated.writeUInt32LE(0x3fffffff, 21);
    expect(() => decodeBlocks(inflated, limits)).toThrow(exception(229));
    expect(() => decodeBlocks(encodeBlock(text), { maxBytes: text.length - 1 })).toThrow(exception(229));
  });

  it('refuses an LZ4 payload that is corrupt or holds another size than declared (271), checksum intact', () => {
    const lying = Buffer.from(encodeBlock(text));
    lying.writeUInt32LE(text.length + 100, 21);
    expect(() => decodeBlocks(rehash(lying), limits)).toThrow(exception(271));
    const garbage = Buffer.from(encodeBlock(text));
    garbage.fill(0xff, 25);
    expect(() => decodeBlocks(rehash(garbage), limits)).toThrow(exception(271));
    const plain = encodeBlock(text, METHOD.NONE);
    plain.writeUInt32LE(text.length - 1, 21);
    expect(() => decodeBlocks(rehash(plain), limits)).toThrow(exception(271));
  });
});

/** The block with its checksum recomputed, so the check under test is the one after the checksum. */
function rehash(block: Buffer): Buffer {
  cityHash128Bytes(block.subarray(16)).copy(block, 0);
  return block;
}

describe('Content-Encoding: lz4 (LZ4 frames)', () => {
  it('decodes a frame from the reference lz4 tool and frames with block checksums', () => {
    expect(decodeLz4Frames(LZ4_CLI_FRAME, 1 << 20).toString()).toBe(LZ4_ROWS);
    const framed = compressFrameSync(Buffer.from(LZ4_ROWS), { blockChecksums: true, contentChecksum: true });
    expect(decodeLz4Frames(Buffer.concat([framed, framed]), 1 << 20).toString()).toBe(LZ4_ROWS + LZ4_ROWS);
  });

  it('refuses corrupt, truncated or foreign bodies (271) and bodies that could inflate past the limit (229)', () => {
    expect(() => decodeLz4Frames(LZ4_CLI_FRAME.subarray(0, LZ4_CLI_FRAME.length - 5), 1 << 20)).toThrow(
      exception(271),
    );
    expect(() => decodeLz4Frames(Buffer.from('not an lz4 frame'), 1 << 20)).toThrow(exception(271));
    const flipped = Buffer.from(LZ4_CLI_FRAME);
    flipped[flipped.length - 10]! ^= 0x20;
    expect(() => decodeLz4Frames(flipped, 1 << 20)).toThrow(exception(271));
    expect(() => decodeLz4Frames(LZ4_CLI_FRAME, 1000)).toThrow(exception(229));
  });
});
