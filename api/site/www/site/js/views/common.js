// Pieces several views share: the checkpoint line, a claim link, status words.

import { h } from "../dom.js";
import { num, t, when } from "../i18n.js";
import { toBase64 } from "../verify/bytes.js";

/** "Checkpoint: 22,406 entries, root …, checked in this browser at …" */
export function checkpointLine(checked) {
  const { cp, checkedAt } = checked;
  return h("p", { class: "checkpoint", "data-testid": "checkpoint" },
    h("span", { class: "ok-mark" }, "✓ "),
    t("checkpoint.line", { size: num(cp.size), at: checkedAt.toLocaleString() }), " ",
    h("code", { class: "root", "data-testid": "checkpoint-root", title: t("checkpoint.root") }, toBase64(cp.root)),
    h("span", { hidden: true, "data-testid": "checkpoint-size" }, String(cp.size)));
}

/** A link to a claim's page. */
export function claimLink(id) {
  return h("a", { href: `#/claim/${id}`, "data-claim": id }, id);
}

/** A status word in the current language. */
export function statusWord(status) {
  return h("span", { class: `status status-${status}` }, t(`status.${status}`));
}

/** A section with a heading. */
export function section(title, ...children) {
  return h("section", {}, h("h2", {}, title), ...children);
}

/** A definition list from [label, value] pairs. */
export function facts(pairs, attrs = {}) {
  return h("dl", { class: "facts", ...attrs }, pairs.flatMap(([k, v, id]) => [h("dt", {}, k), h("dd", id ? { "data-testid": id } : {}, v)]));
}

/** A failure box (red): what failed and why. */
export function failure(title, detail, attrs = {}) {
  return h("div", { class: "fail", role: "alert", ...attrs }, h("strong", {}, title), h("p", {}, detail));
}

export { when };
