// Bytes, strict base64 and hex, UTF-8, and the two primitives Web Crypto gives:
// SHA-256 and Ed25519 (RFC 8032). Nothing here trusts its input.

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-f]{2})*$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const encoder = new TextEncoder();

/** A check failed on malformed input: `what` names the value. */
export class FormatError extends Error {}

/** Standard, padded, canonical base64 (RFC 4648 §4) to bytes; anything else throws. */
export function fromBase64(text, what = "base64") {
  if (typeof text !== "string" || !B64.test(text)) {
    throw new FormatError(`${what}: expected standard padded base64, found ${show(text)}`);
  }
  // atob ignores the bits that padding leaves over: they must be zero, so that each
  // byte string has one encoding (RFC 4648 §3.5).
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  if (pad && (ALPHABET.indexOf(text[text.length - pad - 1]) & (pad === 2 ? 0x0f : 0x03)) !== 0) {
    throw new FormatError(`${what}: not canonical base64: ${show(text)}`);
  }
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Bytes to standard padded base64. */
export function toBase64(bytes) {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

/** Lower-case hex to bytes (an even number of digits, nothing else). */
export function fromHex(text, what = "hex") {
  if (typeof text !== "string" || !HEX.test(text)) {
    throw new FormatError(`${what}: expected lower-case hex, found ${show(text)}`);
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  return out;
}

/** Bytes to lower-case hex. */
export function toHex(bytes) {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** A string's UTF-8 bytes. */
export function utf8(text) {
  return encoder.encode(text);
}

/** Strict UTF-8 decoding: a bad byte throws. */
export function fromUtf8(bytes) {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

/** The concatenation of byte arrays (strings are taken as UTF-8). */
export function concat(...parts) {
  const arrays = parts.map((p) => (typeof p === "string" ? utf8(p) : p));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** Byte-for-byte equality. */
export function equal(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A u64 as 8 big-endian bytes; the value is a BigInt in 0..2^64-1. */
export function u64be(value) {
  if (typeof value !== "bigint" || value < 0n || value >= 1n << 64n) {
    throw new FormatError(`expected an unsigned 64-bit integer, found ${show(value)}`);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value);
  return out;
}

/** SHA-256 (FIPS 180-4) with Web Crypto. */
export async function sha256(...parts) {
  const data = parts.length === 1 && parts[0] instanceof Uint8Array ? parts[0] : concat(...parts);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

const keyCache = new Map();

/** Verify an Ed25519 signature (RFC 8032) with a raw 32-byte public key, with Web Crypto. */
export async function ed25519Verify(publicKey, signature, message) {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const id = toHex(publicKey);
  let key = keyCache.get(id);
  if (key === undefined) {
    try {
      key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    } catch {
      return false; // not a point on the curve
    }
    keyCache.set(id, key);
  }
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

/** A short description of a value for an error message. */
export function show(value) {
  let text;
  try {
    text = typeof value === "bigint" ? `${value}` : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
