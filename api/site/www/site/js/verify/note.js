// C2SP signed notes and verifier keys, Ed25519 only (specs/checkpoint.md §1-§2).

import { FormatError, concat, ed25519Verify, equal, fromBase64, sha256, toHex, utf8 } from "./bytes.js";

export const MAX_SIGNATURES = 100;
const SIG_PREFIX = "\u2014 "; // EM DASH and a space
const HEX8 = /^[0-9a-f]{8}$/;

/** A note refused; `kind` is "format", "signature" (a known key's signature fails)
 * or "unverified" (no known key signed it). */
export class NoteError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

/** A key name: non-empty, no white space, no "+" (§2). */
export function isValidName(name) {
  return typeof name === "string" && name.length > 0 && !name.includes("+") && !/\s/u.test(name);
}

/** The key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4] (§2). */
export async function keyId(name, publicKey) {
  return (await sha256(concat(name, new Uint8Array([0x0a, 0x01]), publicKey))).slice(0, 4);
}

/**
 * Parse a verifier key `<name>+<hex key ID>+<base64(0x01 || key)>`, split on the
 * first two "+" only (§2). Returns {name, keyId, publicKey, text}; throws NoteError.
 */
export async function parseVerifierKey(text) {
  const bad = (why) => {
    throw new NoteError("format", `verifier key: ${why}`);
  };
  if (typeof text !== "string") bad("expected a string");
  const a = text.indexOf("+");
  const b = a < 0 ? -1 : text.indexOf("+", a + 1);
  if (b < 0) bad(`expected <name>+<hex8>+<base64>, found ${JSON.stringify(text)}`);
  const [name, hex, b64] = [text.slice(0, a), text.slice(a + 1, b), text.slice(b + 1)];
  if (!isValidName(name)) bad(`bad key name ${JSON.stringify(name)}`);
  if (!HEX8.test(hex)) bad(`expected 8 lower-case hex digits as key ID, found ${JSON.stringify(hex)}`);
  let raw;
  try {
    raw = fromBase64(b64, "verifier key");
  } catch (e) {
    bad(e.message);
  }
  if (raw.length !== 33 || raw[0] !== 0x01) bad("expected type 0x01 (Ed25519) and a 32-byte key");
  const publicKey = raw.slice(1);
  const id = await keyId(name, publicKey);
  if (toHex(id) !== hex) bad(`key ID for ${name} must be ${toHex(id)}, found ${hex}`);
  return { name, keyId: id, publicKey, text };
}

/**
 * Open a signed note with the known `keys` (parsed verifier keys). Returns the body
 * (up to and including the newline before the last blank line). Signature lines of
 * unknown keys are ignored; a known key's bad signature rejects the note; at least
 * one known key must have signed (§1).
 */
export async function openNote(text, keys) {
  const bad = (why) => {
    throw new NoteError("format", why);
  };
  if (typeof text !== "string") bad("expected the note as text");
  if (!text.isWellFormed()) bad("a lone surrogate is not text");
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x0a) || c === 0x7f) bad(`control character at ${i}`);
  }
  const split = text.lastIndexOf("\n\n");
  if (split < 0) bad("no blank line before the signatures");
  const body = text.slice(0, split + 1);
  const block = text.slice(split + 2);
  if (!block.endsWith("\n")) bad("the note must end with newline-terminated signature lines");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) bad(`${lines.length} signature lines, at most ${MAX_SIGNATURES}`);
  const message = utf8(body);
  let signed = 0;
  for (const [n, line] of lines.entries()) {
    const sig = parseSignatureLine(n + 1, line);
    const key = keys.find((k) => k.name === sig.name && equal(k.keyId, sig.keyId));
    if (key === undefined) continue;
    if (!(await ed25519Verify(key.publicKey, sig.signature, message))) {
      throw new NoteError("signature", `signature line ${n + 1} from the known key ${key.name}+${toHex(key.keyId)} does not verify`);
    }
    signed++;
  }
  if (signed === 0) {
    const wanted = keys.map((k) => `${k.name}+${toHex(k.keyId)}`).join(", ");
    throw new NoteError("unverified", `no signature from a known key (expected ${wanted}); ${lines.length} line(s) from other keys`);
  }
  return body;
}

function parseSignatureLine(n, line) {
  const bad = (why) => {
    throw new NoteError("format", `signature line ${n}: ${why}`);
  };
  if (!line.startsWith(SIG_PREFIX)) bad("expected an em dash and a space first");
  const fields = line.slice(SIG_PREFIX.length).split(" ");
  if (fields.length !== 2) bad("expected '— <name> <base64>'");
  const [name, b64] = fields;
  if (!isValidName(name)) bad(`bad key name ${JSON.stringify(name)}`);
  let raw;
  try {
    raw = fromBase64(b64, "signature");
  } catch (e) {
    if (e instanceof FormatError) bad(e.message);
    throw e;
  }
  if (raw.length <= 4) bad("expected a 4-byte key ID and a signature");
  return { name, keyId: raw.slice(0, 4), signature: raw.slice(4) };
}
