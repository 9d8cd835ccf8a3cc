// The members' page: a router over a few views, in two languages. Each view is a
// module with render(root, params) returning an optional cleanup function; a new
// view (for example a member's own actions) is one more entry in VIEWS.

import { h, fill } from "./dom.js";
import { language, setLanguage, t } from "./i18n.js";
import { KeyMismatch, pinnedKey } from "./trust.js";
import * as claim from "./views/claim.js";
import * as claims from "./views/claims.js";
import * as key from "./views/key.js";
import * as plan from "./views/plan.js";
import * as statement from "./views/statement.js";

const VIEWS = [
  { path: "plan", nav: "nav.plan", view: plan },
  { path: "claims", nav: "nav.claims", view: claims },
  { path: "claim", nav: null, view: claim },
  { path: "statement", nav: "nav.statement", view: statement },
  { path: "key", nav: "nav.key", view: key },
];
let cleanup = null;

/** "#/claim/c-12?x=1" -> {path: "claim", arg: "c-12", params: {x: "1"}} */
function route() {
  const [pathPart, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [path = "plan", arg = null] = pathPart.split("/");
  return { path: path || "plan", arg, params: Object.fromEntries(new URLSearchParams(query)) };
}

function chrome(current) {
  fill(document.getElementById("nav"), VIEWS.filter((v) => v.nav).map((v) =>
    h("a", { href: `#/${v.path}`, "aria-current": v.path === current ? "page" : null }, t(v.nav))));
  fill(document.getElementById("lang"), [["en", "English"], ["zh-CN", "中文"]].map(([code, label]) =>
    h("button", { type: "button", lang: code, "aria-pressed": String(language() === code), onclick: () => { setLanguage(code); render(); } }, label)));
  fill(document.getElementById("foot"), t("foot.text"));
  document.title = t("title");
  document.getElementById("brand-name").textContent = t("title");
}

async function keyBanner() {
  const banner = document.getElementById("banner");
  try {
    await pinnedKey();
    fill(banner);
    banner.className = "";
  } catch (e) {
    banner.className = "fail";
    if (e instanceof KeyMismatch) {
      fill(banner, h("strong", {}, t("key.mismatch.title")), " ", t("key.mismatch.text"), " ", h("a", { href: "#/key" }, t("key.mismatch.link")));
    } else {
      fill(banner, t("error.server", { detail: e.message }));
    }
  }
}

async function render() {
  if (cleanup) cleanup();
  cleanup = null;
  document.documentElement.lang = language();
  const r = route();
  const entry = VIEWS.find((v) => v.path === r.path) ?? VIEWS[0];
  chrome(entry.path);
  const root = document.getElementById("view");
  root.dataset.view = entry.path;
  root.dataset.ready = "false";
  fill(root, h("p", { class: "muted" }, t("loading")));
  if (!window.isSecureContext || !crypto.subtle) {
    fill(root, h("div", { class: "fail" }, t("error.insecure")));
    return;
  }
  await keyBanner();
  try {
    cleanup = (await entry.view.render(root, r)) ?? null;
  } catch (e) {
    fill(root, h("div", { class: "fail" }, t("error.server", { detail: e.message })));
  }
  root.dataset.ready = "true";
}

window.addEventListener("hashchange", render);
render();
