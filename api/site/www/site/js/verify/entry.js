// Entries (specs/entries.md): parse an entry's exact bytes, refusing every byte
// string but the one canonical spelling, with the §3 error kinds in their order.

import { fromUtf8, sha256, toHex, concat } from "./bytes.js";
import { JSONError, canonicalize, isInt, isObject, parseStrict } from "./json.js";

export const MAX_ENTRY = 65535;
const KEYS = ["actor", "body", "prev", "seq", "time", "type", "version"];
const TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const ACTOR = /^[a-z][a-z0-9_]*(:[A-Za-z0-9._@-]{1,128})?$/;
const PREV = /^[0-9a-f]{64}$/;
const TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/;

/** An entry refused; `kind` is the specs/entries.md §3 kind. */
export class EntryError extends Error {
  constructor(kind, message) {
    super(`${kind}: ${message}`);
    this.kind = kind;
  }
}

/** Is `text` an entry time: YYYY-MM-DDTHH:MM:SSZ naming a real instant (§1)? */
export function isValidTime(text) {
  const m = typeof text === "string" ? TIME.exec(text) : null;
  if (m === null) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const date = new Date(Date.UTC(2000, mo - 1, d));
  date.setUTCFullYear(y);
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Parse an entry's bytes (a Uint8Array) per specs/entries.md §3; throws EntryError. */
export function parseEntry(bytes) {
  if (bytes.length === 0) throw new EntryError("empty", "the entry has no bytes");
  if (bytes.length > MAX_ENTRY) {
    throw new EntryError("too_large", `expected at most ${MAX_ENTRY} bytes, found ${bytes.length}`);
  }
  let text;
  try {
    text = fromUtf8(bytes);
  } catch {
    throw new EntryError("bad_utf8", "expected UTF-8");
  }
  let value;
  try {
    value = parseStrict(text);
  } catch (e) {
    if (e instanceof JSONError) throw new EntryError(e.kind, e.message);
    throw e;
  }
  if (canonicalize(value) !== text) {
    throw new EntryError("not_canonical", "the bytes are not the RFC 8785 serialisation of their value");
  }
  checkEnvelope(value);
  return value;
}

function checkEnvelope(v) {
  const bad = (why) => {
    throw new EntryError("bad_envelope", why);
  };
  if (!isObject(v)) bad("expected a JSON object");
  const keys = Object.keys(v).sort();
  if (keys.join() !== KEYS.join()) bad(`expected exactly the members ${KEYS.join(", ")}, found ${keys.join(", ")}`);
  if (v.version !== 1) bad(`expected version 1, found ${JSON.stringify(v.version)}`);
  if (!isInt(v.seq) || v.seq < 0) bad(`expected seq an integer >= 0, found ${JSON.stringify(v.seq)}`);
  if (!isValidTime(v.time)) bad(`expected time YYYY-MM-DDTHH:MM:SSZ, found ${JSON.stringify(v.time)}`);
  if (typeof v.type !== "string" || v.type.length > 64 || !TYPE.test(v.type)) bad(`bad type ${JSON.stringify(v.type)}`);
  if (typeof v.prev !== "string" || !PREV.test(v.prev)) bad(`expected prev 64 lower-case hex digits, found ${JSON.stringify(v.prev)}`);
  if (typeof v.actor !== "string" || !ACTOR.test(v.actor)) bad(`bad actor ${JSON.stringify(v.actor)}`);
  if (!isObject(v.body)) bad("expected body to be an object");
}

/** The chain hash: SHA-256 of the bytes, lower-case hex (§4). */
export async function chainHash(bytes) {
  return toHex(await sha256(bytes));
}

/** The RFC 9162 leaf hash: SHA-256(0x00 || bytes) (§4, tree.md §1). */
export function leafHash(bytes) {
  return sha256(concat(new Uint8Array([0]), bytes));
}
