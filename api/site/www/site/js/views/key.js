// The key this browser trusts: shown in full with how to compare it out of band,
// replaceable by one the member got from the operator another way, or forgotten.

import { getJSON } from "../api.js";
import { h, fill } from "../dom.js";
import { num, t } from "../i18n.js";
import { toBase64, toHex } from "../verify/bytes.js";
import { parseVerifierKey } from "../verify/note.js";
import { forget, lastSeen, pin, pinRecord } from "../trust.js";
import { facts, failure, section } from "./common.js";

export async function render(root) {
  const record = pinRecord();
  const info = await getJSON("v1/log");
  const parts = [h("h1", {}, t("key.title")), h("p", { class: "lead" }, t("key.lead"))];
  if (record !== null) {
    const key = await parseVerifierKey(record.text);
    const same = info.verifier_key === record.text;
    parts.push(section(t("key.pinned"),
      h("p", {}, h("code", { class: "key", "data-testid": "pinned-key" }, record.text)),
      facts([
        [t("key.name"), key.name],
        [t("key.id"), toHex(key.keyId)],
        [t("key.pinned_at"), new Date(record.at).toLocaleString()],
        [t("key.how"), t(`key.how.${record.how}`)],
        [t("key.server"), same ? `✓ ${t("key.server.same")}` : `✗ ${t("key.server.other")}`, "server-key"],
      ]),
      same ? null : failure(t("key.mismatch.title"), `${t("key.mismatch.text")} ${info.verifier_key}`)));
  }
  parts.push(section(t("key.compare"), h("p", {}, t("key.compare.text")), h("pre", {}, "tally-verify init <URL> --key '<verifier key>'")));
  parts.push(seenSection());
  parts.push(section(t("key.enter"), enterForm(root)));
  root.replaceChildren(...parts);
}

function seenSection() {
  const seen = lastSeen();
  if (seen === null) return section(t("key.seen"), h("p", { class: "muted" }, t("key.seen.none")));
  return section(t("key.seen"), facts([[t("key.seen.size"), num(seen.size)], [t("key.seen.root"), h("code", {}, toBase64(seen.root))]]));
}

function enterForm(root) {
  const msg = h("p", {});
  const form = h("form", { class: "ask", onsubmit: async (e) => {
    e.preventDefault();
    try {
      await pin(new FormData(form).get("key"), "entered");
      await render(root);
    } catch (err) {
      fill(msg, failure(t("key.enter.bad"), err.message));
    }
  } },
    h("label", {}, t("key.enter.label"), h("input", { name: "key", required: true, spellcheck: "false", autocomplete: "off" })),
    h("button", { type: "submit" }, t("key.enter.button")),
    h("button", { type: "button", class: "secondary", onclick: async () => { forget(); await render(root); } }, t("key.forget")));
  return h("div", {}, h("p", {}, t("key.enter.text")), form, msg);
}
