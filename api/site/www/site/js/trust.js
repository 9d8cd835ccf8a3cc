// What this browser trusts: the log's verifier key, pinned on the first visit (or
// entered by the member after comparing it out of band), and the last checkpoint it
// saw, against which every newer one must be consistent (RFC 9162 §2.1.4).

import { getJSON, getText } from "./api.js";
import { fromBase64, toBase64 } from "./verify/bytes.js";
import { verifyCheckpoint } from "./verify/checkpoint.js";
import { parseVerifierKey } from "./verify/note.js";
import { checkConsistent } from "./statement/checkpoint.js";

const PIN = "tally.pinned-key";
const SEEN = "tally.last-checkpoint";

/** The server's key is not the one this browser pinned. */
export class KeyMismatch extends Error {
  constructor(pinned, served) {
    super(`the server's key ${served} is not the key pinned in this browser, ${pinned}`);
    this.pinned = pinned;
    this.served = served;
  }
}

function read(name) {
  try {
    return JSON.parse(localStorage.getItem(name) ?? "null");
  } catch {
    return null;
  }
}

/** The pin record {text, at, how} or null. */
export function pinRecord() {
  return read(PIN);
}

/** Pin `text` (a verifier key), how = "first-visit" or "entered"; throws if malformed. */
export async function pin(text, how) {
  const key = await parseVerifierKey(text.trim());
  localStorage.setItem(PIN, JSON.stringify({ text: key.text, at: new Date().toISOString(), how }));
  localStorage.removeItem(SEEN); // a new key starts a new history
  return key;
}

/** Forget the pinned key and the last checkpoint seen. */
export function forget() {
  localStorage.removeItem(PIN);
  localStorage.removeItem(SEEN);
}

/**
 * The pinned key, parsed. On the first visit the key the server names is pinned
 * (trust on first use, said so on the key page). Throws KeyMismatch when the server
 * now names another key: nothing it serves is then verified.
 */
export async function pinnedKey() {
  const info = await getJSON("v1/log");
  let record = pinRecord();
  if (record === null) {
    await pin(info.verifier_key, "first-visit");
    record = pinRecord();
  }
  const key = await parseVerifierKey(record.text);
  if (info.verifier_key !== record.text) throw new KeyMismatch(record.text, info.verifier_key);
  return { key, record, info };
}

/** The last checkpoint this browser saw ({size: BigInt, root, note, at}) or null. */
export function lastSeen() {
  const r = read(SEEN);
  if (r === null) return null;
  return { size: BigInt(r.size), root: fromBase64(r.root), note: r.note, at: r.at };
}

/** Remember `cp` as the last checkpoint seen, unless an earlier one is larger. */
export function saveSeen(cp) {
  const seen = lastSeen();
  if (seen !== null && seen.size > cp.size) return;
  localStorage.setItem(SEEN, JSON.stringify({ size: String(cp.size), root: toBase64(cp.root), note: cp.note, at: new Date().toISOString() }));
}

/** The consistency proof between two sizes, from the server. */
export async function fetchConsistency(first, second) {
  const proof = await getJSON("v1/proof/consistency", { first: String(first), second: String(second) });
  if (!Array.isArray(proof.hashes)) throw new Error("the server sent no list of hashes");
  return proof.hashes;
}

/**
 * Fetch the latest checkpoint, verify its signature with the pinned key and its
 * consistency with the last one seen, remember it; returns {cp, checkedAt}.
 */
export async function latestCheckpoint(key) {
  const note = await getText("v1/checkpoint");
  const cp = await verifyCheckpoint(note, key);
  const seen = lastSeen();
  await checkConsistent(cp, seen, fetchConsistency);
  saveSeen(cp);
  return { cp, checkedAt: new Date(), previous: seen };
}
