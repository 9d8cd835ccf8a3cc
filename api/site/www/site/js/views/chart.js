// Two small SVG charts drawn from the periods' own numbers: the share over time, and
// where each period's money went (claims and fee) and where it came from (members,
// the operator's subsidy, the carry).

import { h, svg } from "../dom.js";
import { t, yuan } from "../i18n.js";

const W = 640;
const H = 200;
const PAD = 36;

/** A bar chart of the share (fen) per period. */
export function shareChart(periods) {
  const max = Math.max(1, ...periods.map((p) => p.body.share_fen));
  const step = (W - PAD * 2) / Math.max(1, periods.length);
  const bars = periods.map((p, i) => {
    const height = ((H - PAD * 2) * p.body.share_fen) / max;
    const x = PAD + i * step;
    return svg("g", {},
      svg("rect", { x: x + step * 0.15, y: H - PAD - height, width: step * 0.7, height, class: "bar-share" },
        svg("title", {}, `${p.period}: ${yuan(p.body.share_fen)}`)),
      i % Math.ceil(periods.length / 8) === 0 ? svg("text", { x: x + step / 2, y: H - PAD + 14, class: "axis", "text-anchor": "middle" }, p.period) : null);
  });
  return h("figure", { class: "chart" },
    svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t("chart.share") },
      svg("line", { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: "axis-line" }),
      svg("text", { x: PAD, y: PAD - 10, class: "axis" }, yuan(max)),
      bars),
    h("figcaption", {}, t("chart.share")));
}

/** One period's money: uses (claims, fee) against sources (members, subsidy, carry). */
export function moneyBar(body) {
  const uses = [["aid", Math.max(0, body.aid_fen)], ["fee", body.fee_fen]];
  const carry = body.carry_in_fen - body.carry_out_fen;
  const sources = [["members", body.contribution_total_fen], ["subsidy", body.subsidy_fen], ["carry", Math.max(0, carry)]];
  const total = Math.max(1, ...[uses, sources].map((xs) => xs.reduce((n, [, v]) => n + v, 0)));
  const row = (y, parts) => {
    let x = 0;
    return parts.filter(([, v]) => v > 0).map(([name, v]) => {
      const w = ((W - 2) * v) / total;
      const r = svg("rect", { x: 1 + x, y, width: w, height: 22, class: `money-${name}` }, svg("title", {}, `${t(`money.${name}`)}: ${yuan(v)}`));
      x += w;
      return r;
    });
  };
  return svg("svg", { viewBox: `0 0 ${W} 56`, class: "money", role: "img", "aria-label": t("money.label") },
    row(2, uses), row(30, sources));
}

/** The legend of moneyBar's colours. */
export function moneyLegend() {
  return h("ul", { class: "legend" }, ["aid", "fee", "members", "subsidy", "carry"].map((n) =>
    h("li", {}, h("span", { class: `swatch money-${n}` }), t(`money.${n}`))));
}
