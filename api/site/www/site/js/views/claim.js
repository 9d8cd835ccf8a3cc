// A claim's page: every entry of its history (filed, assessed, disclosed, objections,
// appeal, pool, draw, votes, decision, payment or reversal), each fetched as its
// exact bytes, parsed strictly and proven in the checkpoint this browser verified;
// each vote's signature checked with the juror's enrolled key, the pool's with the log's.

import { entryURL, getJSON } from "../api.js";
import { h } from "../dom.js";
import { t, yuan } from "../i18n.js";
import { fromHex } from "../verify/bytes.js";
import { latestCheckpoint, pinnedKey } from "../trust.js";
import { verifyPoolSignature } from "../plan/draw.js";
import { verifyVote } from "../plan/vote.js";
import { fetchProven } from "./proven.js";
import { checkpointLine, facts, failure, section, statusWord, when } from "./common.js";

export async function render(root, { arg }) {
  const claim = await getJSON(`v1/claims/${encodeURIComponent(arg ?? "")}`);
  const { key } = await pinnedKey();
  const checked = await latestCheckpoint(key);
  const steps = await Promise.all(claim.history.map(async (s) => belongs(claim.claim, s, await fetchProven(s.seq, checked.cp))));
  const items = [];
  for (const [i, step] of steps.entries()) items.push(await stepItem(claim.history[i], step, key, checked.cp));
  const verified = steps.filter((s) => s.proof === "ok").length;
  root.replaceChildren(
    h("h1", {}, t("claim.title", { id: claim.claim }), " ", statusWord(claim.status)),
    facts([
      [t("claim.category"), t(`category.${claim.category}`)],
      [t("claim.condition"), claim.condition],
      [t("claim.claimed"), yuan(claim.amount_fen), "claimed"],
      [t("claim.outcome"), claim.outcome ? t(`outcome.${claim.outcome}`) : "—"],
      [t("claim.paid"), claim.paid_fen === null ? "—" : `${yuan(claim.paid_fen)} (${claim.paid_period})`, "paid"],
      [t("claim.recovered_label"), claim.recovered_fen === null ? "—" : yuan(claim.recovered_fen)],
    ]),
    section(t("claim.history"), checkpointLine(checked),
      h("p", { "data-testid": "proven" }, t("claim.proven", { n: verified, total: steps.length }), " ", t("claim.summary_note")),
      h("ol", { class: "history", "data-testid": "history" }, items)));
}

// The server's history names the seqs; each entry itself must be of this claim and type.
function belongs(id, step, got) {
  if (!got.entry) return got;
  const e = got.entry;
  const ours = e.type === step.type && (e.type === "claim.filed" ? `c-${e.seq}` === id : e.body.claim === id);
  return ours ? got : { proof: "fail", error: t("claim.not_this", { seq: step.seq, id }) };
}

async function stepItem(step, got, key, cp) {
  const head = h("div", { class: "step-head" },
    h("a", { href: entryURL(step.seq), class: "seq", target: "_blank", rel: "noopener" }, `seq ${step.seq}`), " ",
    h("strong", {}, t(`type.${step.type}`)), " ", h("span", { class: "muted" }, when(step.time)), " ",
    proofMark(got));
  const li = h("li", { "data-seq": step.seq, "data-type": step.type, "data-proof": got.proof }, head);
  if (got.entry) {
    li.append(bodyFacts(got.entry.body));
    const sig = await signatureCheck(got.entry, key, cp);
    if (sig !== null) {
      li.dataset.signature = sig.ok ? "ok" : "fail";
      li.append(h("p", { class: sig.ok ? "ok" : "bad" }, sig.ok ? `✓ ${t(sig.label)}` : `✗ ${t(sig.label + ".bad")} ${sig.why ?? ""}`));
    }
  }
  if (got.error) li.append(failure(t("claim.entry_failed"), got.error));
  return li;
}

function proofMark(got) {
  if (got.proof === "ok") return h("span", { class: "ok" }, `✓ ${t("claim.in_log")}`);
  if (got.proof === "pending") return h("span", { class: "muted" }, t("claim.not_yet_covered"));
  return h("span", { class: "bad" }, `✗ ${t("claim.not_proven")}`);
}

// The vote's signature with the juror's key from their juror.enrolled entry (itself
// proven in the checkpoint); the pool's signature with the log's pinned key (§6, §7).
async function signatureCheck(entry, key, cp) {
  const b = entry.body;
  if (entry.type === "panel.pooled") {
    try {
      await verifyPoolSignature(key, key.name, b.claim, fromHex(b.pool_root, "pool_root"), b.pool_signature);
      return { ok: true, label: "sig.pool" };
    } catch (e) {
      return { ok: false, label: "sig.pool", why: e.message };
    }
  }
  if (entry.type !== "vote.cast") return null;
  const member = await getJSON(`v1/members/${b.juror}`);
  if (member.juror_seq === null) return { ok: false, label: "sig.vote", why: t("sig.no_key") };
  const enrolled = await fetchProven(member.juror_seq, cp);
  if (enrolled.proof !== "ok" || enrolled.entry.type !== "juror.enrolled" || enrolled.entry.body.member !== b.juror) {
    return { ok: false, label: "sig.vote", why: t("sig.no_key") };
  }
  const ok = await verifyVote(enrolled.entry.body.juror_key, key.name, b.claim, b.choice, b.rationale_hash, b.signature);
  return { ok, label: "sig.vote", why: ok ? null : t("sig.enrolled_at", { seq: member.juror_seq }) };
}

const SKIP = new Set(["claim", "signature", "pool_signature", "evidence_commitment", "report_commitment", "reason_hash", "rationale_hash", "secret_commitment", "secret", "seed", "pool_root"]);

function bodyFacts(body) {
  const pairs = Object.entries(body).filter(([k]) => !SKIP.has(k)).map(([k, v]) => [t(`field.${k}`), show(k, v)]);
  return facts(pairs, { class: "facts small" });
}

function show(k, v) {
  if (k.endsWith("_fen") && Number.isSafeInteger(v)) return yuan(v);
  if (Array.isArray(v)) return v.length > 4 ? `${v.slice(0, 4).join(", ")} … (${v.length})` : v.join(", ");
  if (k === "choice" || k === "decision") return t(`choice.${v}`);
  if (k === "outcome") return t(`outcome.${v}`);
  if (k === "basis") return t(`basis.${v}`);
  if (k === "category") return t(`category.${v}`);
  if (typeof v === "string" && /T\d\d:\d\d:\d\dZ$/.test(v)) return when(v);
  return String(v);
}
