/**
 * CityHash128 as in CityHash v1.0.2 — the version ClickHouse vendors (contrib/cityhash102) and uses
 * for the 16-byte checksum of its compressed blocks. Later CityHash releases changed the function,
 * so no newer library will do. Transcribed from the reference C++ with 64-bit BigInt arithmetic;
 * verified against the vectors of the official Java driver's ClickHouseCityHash in the tests.
 */

const MASK = (1n << 64n) - 1n;
const k0 = 0xc3a5c85c97cb3127n;
const k1 = 0xb492b66fbe98f273n;
const k2 = 0x9ae16a3b2f90404fn;
const k3 = 0xc949d7c7509e6557n;
const kMul = 0x9ddfea08eb382d69n;

const u64 = (value: bigint) => value & MASK;
const mul = (a: bigint, b: bigint) => (a * b) & MASK;
const add = (a: bigint, b: bigint) => (a + b) & MASK;

function rotate(value: bigint, shift: number): bigint {
  if (shift === 0) return value;
  const s = BigInt(shift);
  return ((value >> s) | (value << (64n - s))) & MASK;
}

const shiftMix = (value: bigint) => value ^ (value >> 47n);

function hashLen16(u: bigint, v: bigint): bigint {
  let a = mul(u ^ v, kMul);
  a ^= a >> 47n;
  let b = mul(v ^ a, kMul);
  b ^= b >> 47n;
  return mul(b, kMul);
}

class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  fetch64(at: number): bigint {
    return this.view.getBigUint64(at, true);
  }
  fetch32(at: number): bigint {
    return BigInt(this.view.getUint32(at, true));
  }
  byte(at: number): bigint {
    return BigInt(this.bytes[at]!);
  }
}

function hashLen0to16(r: Reader, s: number, len: number): bigint {
  const length = BigInt(len);
  if (len > 8) {
    const a = r.fetch64(s);
    const b = r.fetch64(s + len - 8);
    // RotateByAtLeast1: len is 9..16 here, never 0
    return hashLen16(a, rotate(add(b, length), len)) ^ b;
  }
  if (len >= 4) {
    const a = r.fetch32(s);
    return hashLen16(add(length, a << 3n), r.fetch32(s + len - 4));
  }
  if (len > 0) {
    const a = r.byte(s);
    const b = r.byte(s + (len >> 1));
    const c = r.byte(s + len - 1);
    const y = (a + (b << 8n)) & 0xffffffffn;
    const z = (length + (c << 2n)) & 0xffffffffn;
    return mul(shiftMix(mul(y, k2) ^ mul(z, k3)), k2);
  }
  return k2;
}

function weakHashLen32WithSeeds(r: Reader, s: number, a0: bigint, b0: bigint): [bigint, bigint] {
  const w = r.fetch64(s);
  const x = r.fetch64(s + 8);
  const y = r.fetch64(s + 16);
  const z = r.fetch64(s + 24);
  let a = add(a0, w);
  let b = rotate(add(add(b0, a), z), 21);
  const c = a;
  a = add(a, x);
  a = add(a, y);
  b = add(b, rotate(a, 44));
  return [add(a, z), add(b, c)];
}

function cityMurmur(
  r: Reader,
  start: number,
  len: number,
  seedLow: bigint,
  seedHigh: bigint,
): [bigint, bigint] {
  let a = seedLow;
  let b = seedHigh;
  let c: bigint;
  let d: bigint;
  let l = len - 16;
  if (l <= 0) {
    a = mul(shiftMix(mul(a, k1)), k1);
    c = add(mul(b, k1), hashLen0to16(r, start, len));
    d = shiftMix(add(a, len >= 8 ? r.fetch64(start) : c));
  } else {
    c = hashLen16(add(r.fetch64(start + len - 8), k1), a);
    d = hashLen16(add(b, BigInt(len)), add(c, r.fetch64(start + len - 16)));
    a = add(a, d);
    let s = start;
    do {
      a ^= mul(shiftMix(mul(r.fetch64(s), k1)), k1);
      a = mul(a, k1);
      b ^= a;
      c ^= mul(shiftMix(mul(r.fetch64(s + 8), k1)), k1);
      c = mul(c, k1);
      d ^= c;
      s += 16;
      l -= 16;
    } while (l > 0);
  }
  a = hashLen16(a, c);
  b = hashLen16(d, b);
  return [a ^ b, hashLen16(b, a)];
}

function cityHash128WithSeed(
  r: Reader,
  start: number,
  length: number,
  seedLow: bigint,
  seedHigh: bigint,
): [bigint, bigint] {
  if (length < 128) return cityMurmur(r, start, length, seedLow, seedHigh);
  let len = length;
  let s = start;
  let x = seedLow;
  let y = seedHigh;
  let z = mul(BigInt(len), k1);
  const v: [bigint, bigint] = [0n, 0n];
  const w: [bigint, bigint] = [0n, 0n];
  v[0] = add(mul(rotate(y ^ k1, 49), k1), r.fetch64(s));
  v[1] = add(mul(rotate(v[0], 42), k1), r.fetch64(s + 8));
  w[0] = add(mul(rotate(add(y, z), 35), k1), x);
  w[1] = mul(rotate(add(x, r.fetch64(s + 88)), 53), k1);
  const round = () => {
    x = mul(rotate(add(add(add(x, y), v[0]), r.fetch64(s + 16)), 37), k1);
    y = mul(rotate(add(add(y, v[1]), r.fetch64(s + 48)), 42), k1);
    x ^= w[1];
    y ^= v[0];
    z = rotate(z ^ w[0], 33);
    const nv = weakHashLen32WithSeeds(r, s, mul(v[1], k1), add(x, w[0]));
    const nw = weakHashLen32WithSeeds(r, s + 32, add(z, w[1]), y);
    v[0] = nv[0];
    v[1] = nv[1];
    w[0] = nw[0];
    w[1] = nw[1];
    [z, x] = [x, z];
    s += 64;
  };
  do {
    round();
    round();
    len -= 128;
  } while (len >= 128);
  y = add(y, add(mul(rotate(w[0], 37), k0), z));
  x = add(x, mul(rotate(add(v[0], z), 49), k0));
  for (let tailDone = 0; tailDone < len; ) {
    tailDone += 32;
    y = add(mul(rotate(u64(y - x), 42), k0), v[1]);
    w[0] = add(w[0], r.fetch64(s + len - tailDone + 16));
    x = add(mul(rotate(x, 49), k0), w[0]);
    w[0] = add(w[0], v[0]);
    const nv = weakHashLen32WithSeeds(r, s + len - tailDone, v[0], v[1]);
    v[0] = nv[0];
    v[1] = nv[1];
  }
  x = hashLen16(x, v[0]);
  y = hashLen16(y, w[0]);
  return [add(hashLen16(add(x, v[1]), w[1]), y), hashLen16(add(x, w[1]), add(y, v[1]))];
}

/** CityHash128 (v1.0.2) of `bytes` as [low64, high64]. */
export function cityHash128(bytes: Uint8Array): [bigint, bigint] {
  const r = new Reader(bytes);
  const len = bytes.length;
  if (len >= 16) return cityHash128WithSeed(r, 16, len - 16, r.fetch64(0) ^ k3, r.fetch64(8));
  if (len >= 8) {
    return cityHash128WithSeed(r, 0, 0, r.fetch64(0) ^ mul(BigInt(len), k0), r.fetch64(len - 8) ^ k1);
  }
  return cityHash128WithSeed(r, 0, len, k0, k1);
}

/** The 16 checksum bytes as ClickHouse writes them: low 64 bits, then high, each little-endian. */
export function cityHash128Bytes(bytes: Uint8Array): Buffer {
  const [low, high] = cityHash128(bytes);
  const out = Buffer.alloc(16);
  out.writeBigUInt64LE(low, 0);
  out.writeBigUInt64LE(high, 8);
  return out;
}
