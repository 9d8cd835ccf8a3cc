// The page in two languages, English and Simplified Chinese, switchable; the choice
// is kept in this browser. Money is integer fen, shown as yuan with two decimals
// computed from the integer (never through a float).

import { EN } from "./strings-en.js";
import { ZH } from "./strings-zh.js";

const TABLES = { en: EN, "zh-CN": ZH };
const CHOICE = "tally.language";
let lang = pickLanguage();

function pickLanguage() {
  const saved = localStorage.getItem(CHOICE);
  if (saved in TABLES) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

/** The current language: "en" or "zh-CN". */
export function language() {
  return lang;
}

/** Switch language (the caller re-renders). */
export function setLanguage(value) {
  if (!(value in TABLES)) return;
  lang = value;
  localStorage.setItem(CHOICE, value);
  document.documentElement.lang = value;
}

/** The text of `key` in the current language, with {name} replaced from `params`. */
export function t(key, params = {}) {
  const text = TABLES[lang][key] ?? EN[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Integer fen as yuan: 123456 -> "¥1,234.56" (exact, no float). */
export function yuan(fen) {
  const n = BigInt(fen);
  const abs = n < 0n ? -n : n;
  const whole = new Intl.NumberFormat(lang).format(abs / 100n);
  return `${n < 0n ? "−" : ""}¥${whole}.${String(abs % 100n).padStart(2, "0")}`;
}

/** An integer with group separators. */
export function num(n) {
  return new Intl.NumberFormat(lang).format(typeof n === "bigint" ? n : BigInt(n));
}

/** Basis points as a percentage: 800 -> "8%" (exact to 0.01%). */
export function percent(bp) {
  const whole = Math.trunc(bp / 100);
  const rest = bp % 100;
  return rest ? `${whole}.${String(rest).padStart(2, "0").replace(/0$/, "")}%` : `${whole}%`;
}

/** An entry time (UTC) shown as "2025-07-28 00:00 UTC". */
export function when(time) {
  return typeof time === "string" ? `${time.slice(0, 10)} ${time.slice(11, 16)} UTC` : "";
}

/** A duration in seconds as "2d 03:04:05" (or "2天 03:04:05"). */
export function duration(secs) {
  const s = Math.max(0, Math.floor(secs));
  const d = Math.floor(s / 86400);
  const two = (n) => String(n).padStart(2, "0");
  const hms = `${two(Math.floor((s % 86400) / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
  return d ? t("duration.days", { d, hms }) : hms;
}
