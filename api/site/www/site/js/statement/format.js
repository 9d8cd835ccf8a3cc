// statement.md §1: the bundle's shape, and that it names the pinned log.

import { isInt, isObject } from "../verify/json.js";
import { failCheck } from "./check.js";
import { parsePeriod } from "../plan/periods.js";

export const FORMAT = "tally-statement/v1";
const KEYS = ["checkpoint", "contributions", "entries", "format", "member", "origin", "period", "verifier_key"];
const MEMBER = /^m-[0-9a-f]{20}$/;

export const formatStep = {
  id: "bundle.format",
  async run(ctx) {
    const doc = ctx.doc;
    if (!isObject(doc)) failCheck("bundle.format", "expected a JSON object");
    if (doc.format !== FORMAT) failCheck("bundle.format", `expected format ${FORMAT}, found ${JSON.stringify(doc.format)}`);
    const keys = Object.keys(doc).sort().join(", ");
    if (keys !== KEYS.join(", ")) failCheck("bundle.format", `expected exactly the keys ${KEYS.join(", ")}, found ${keys}`);
    if (typeof doc.member !== "string" || !MEMBER.test(doc.member)) failCheck("bundle.format", "expected a member id");
    try {
      parsePeriod(doc.period);
    } catch (e) {
      failCheck("bundle.format", e.message);
    }
    if (ctx.member && doc.member !== ctx.member) failCheck("bundle.format", `asked for ${ctx.member}, the bundle is for ${doc.member}`);
    if (ctx.period && doc.period !== ctx.period) failCheck("bundle.format", `asked for ${ctx.period}, the bundle is for ${doc.period}`);
    if (!Array.isArray(doc.entries) || !Array.isArray(doc.contributions)) failCheck("bundle.format", "expected lists of entries and contributions");
    for (const [i, e] of doc.entries.entries()) {
      if (!isObject(e) || Object.keys(e).sort().join() !== "leaf,proof,seq" || !isInt(e.seq) || e.seq < 0 || !Array.isArray(e.proof)) {
        failCheck("bundle.format", `entries[${i}]: expected {seq, leaf, proof}`);
      }
    }
    return ["bundle.format"];
  },
};

export const keyStep = {
  id: "bundle.key",
  async run(ctx) {
    const { doc, key } = ctx;
    if (doc.origin !== key.name || doc.verifier_key !== key.text) {
      failCheck("bundle.key", `expected the pinned log ${key.name}, found ${doc.origin} with key ${doc.verifier_key}`);
    }
    return ["bundle.key"];
  },
};
