// Just enough DER to read CSRs and CA certificates and to write workload certificates. node:crypto
// signs and verifies but neither parses PKCS#10 nor builds X.509, and node-forge reads RSA keys only;
// working on the encoded bytes keeps ECDSA keys and the exact signed bytes intact.

export class DerError extends Error {}

/** One tag-length-value element inside `buf`. */
export interface Tlv {
  tag: number;
  /** The whole element, header included (what a signature covers). */
  raw: Buffer;
  /** The contents, without the header. */
  value: Buffer;
}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Context-specific tags: `[n]` constructed (EXPLICIT, or IMPLICIT over a constructed type) and primitive. */
export const context = (n: number): number => 0xa0 | n;
export const contextPrimitive = (n: number): number => 0x80 | n;

/** The element at `offset` (single-byte tags only, as X.509 needs); refuses anything past the buffer. */
export function readTlv(buf: Buffer, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw new DerError('truncated element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let len = buf[offset + 1]!;
  let header = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported length encoding');
    if (offset + 2 + n > buf.length) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    header += n;
  }
  const end = offset + header + len;
  if (end > buf.length) throw new DerError('element runs past its container');
  return { tag, raw: buf.subarray(offset, end), value: buf.subarray(offset + header, end) };
}

/** The elements inside a constructed element's contents. */
export function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < value.length; ) {
    const t = readTlv(value, at);
    out.push(t);
    at += t.raw.length;
  }
  return out;
}

/** The children of an element that must have `tag`. */
export function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: unexpected encoding`);
  return t;
}

export function decodeOid(value: Buffer): string {
  if (value.length === 0) throw new DerError('empty object identifier');
  const parts: number[] = [];
  let n = 0;
  for (const b of value) {
    n = n * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  const first = parts.shift()!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

// ---- writing ----

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const tlv = (tag: number, ...contents: Buffer[]): Buffer => {
  const value = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(value.length), value]);
};

export const sequence = (...items: Buffer[]): Buffer => tlv(TAG.sequence, ...items);

export function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const n of [a! * 40 + b!, ...rest]) {
    const chunk = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

/** A non-negative INTEGER from big-endian bytes, minimally encoded. */
export function unsignedInteger(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const body = bytes.subarray(start);
  return tlv(TAG.integer, body[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body);
}

export const smallInteger = (n: number): Buffer => unsignedInteger(Buffer.from([n]));
export const boolean = (v: boolean): Buffer => tlv(TAG.boolean, Buffer.from([v ? 0xff : 0]));
export const octetString = (b: Buffer): Buffer => tlv(TAG.octetString, b);
export const bitString = (b: Buffer, unusedBits = 0): Buffer => tlv(TAG.bitString, Buffer.from([unusedBits]), b);
export const derNull = (): Buffer => tlv(TAG.null);

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(TAG.utcTime, Buffer.from(`${iso.slice(2)}Z`)) : tlv(TAG.generalizedTime, Buffer.from(`${iso}Z`));
}

/** BIT STRING contents without the unused-bits byte (keys and signatures use whole bytes). */
export function bitStringBytes(t: Tlv, what: string): Buffer {
  expect(t, TAG.bitString, what);
  if (t.value.length === 0 || t.value[0] !== 0) throw new DerError(`${what}: not a whole-byte bit string`);
  return t.value.subarray(1);
}
