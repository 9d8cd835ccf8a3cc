// C2SP tlog-checkpoint (specs/checkpoint.md §3): a signed note whose body is the
// origin, the tree size and the root hash, then optional extension lines.

import { fromBase64 } from "./bytes.js";
import { NoteError, isValidName, openNote } from "./note.js";

const SIZE = /^(?:0|[1-9][0-9]*)$/;
const U64 = 1n << 64n;

/** A checkpoint body refused. */
export class CheckpointError extends Error {}

/** Parse a checkpoint body; returns {origin, size (BigInt), root (32 bytes), extensions}. */
export function parseCheckpointBody(body) {
  const bad = (why) => {
    throw new CheckpointError(why);
  };
  if (!body.endsWith("\n")) bad("the body must end with a newline");
  const lines = body.slice(0, -1).split("\n");
  if (lines.length < 3) bad(`expected origin, size and root lines, found ${lines.length} line(s)`);
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!isValidName(origin)) bad(`bad origin ${JSON.stringify(origin)}`);
  if (!SIZE.test(sizeText) || sizeText.length > 20) bad(`expected a decimal tree size without leading zeros, found ${JSON.stringify(sizeText.slice(0, 30))}`);
  const size = BigInt(sizeText);
  if (size >= U64) bad(`expected a tree size below 2^64, found ${sizeText}`);
  let root;
  try {
    root = fromBase64(rootText, "root hash");
  } catch (e) {
    bad(e.message);
  }
  if (root.length !== 32) bad(`expected a 32-byte root hash, found ${root.length} bytes`);
  extensions.forEach((ext, i) => ext || bad(`extension line ${i + 4} is empty`));
  return { origin, size, root, extensions };
}

/** Verify a signed checkpoint with the pinned `key` (whose name must be its origin). */
export async function verifyCheckpoint(note, key) {
  const body = await openNote(note, [key]);
  const cp = parseCheckpointBody(body);
  if (cp.origin !== key.name) {
    throw new CheckpointError(`expected the origin to be the key's name ${key.name}, found ${cp.origin}`);
  }
  return { ...cp, note };
}

export { NoteError };
