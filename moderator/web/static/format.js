// DOM helpers (text only, never HTML) and the status line; numbers, durations,
// dates and names (language, script, status, label, who decided) written the
// interface language's way.

import { $, state } from "./state.js";
import { hasString, t } from "./strings.js";

const STATUS_MS = 8000;

// ---------------------------------------------------------------------------
// DOM helpers: text only, never HTML
// ---------------------------------------------------------------------------
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// A reader's (or any API) text: as text, with its own direction.
export function userText(tag, className, text) {
  const node = el(tag, className, text ?? "");
  node.dir = "auto";
  return node;
}

// Status messages go to the aria-live region; information fades after a while,
// an error stays until the next message.
export function announce(message, kind) {
  const status = $("status");
  clearTimeout(state.statusTimer);
  status.classList.toggle("is-error", kind === "error");
  // A new node each time, so screen readers announce a repeated message again.
  status.replaceChildren(el("span", null, message));
  if (kind !== "error") {
    state.statusTimer = setTimeout(() => status.replaceChildren(), STATUS_MS);
  }
}

// ---------------------------------------------------------------------------
// Numbers, durations and dates, as the interface language writes them
// ---------------------------------------------------------------------------
export function isNumber(value) {
  return typeof value === "number" && Number.isFinite(value);
}

// Numbers as the interface language writes them: "0,93" in French, "0.93" in English.
export function formatNumber(value, options) {
  return isNumber(value) ? new Intl.NumberFormat(locale(), options).format(value) : "–";
}

export function formatScore(value) {
  return formatNumber(value, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function formatCount(value) {
  return formatNumber(value, { maximumFractionDigits: 0 });
}

// A rate (0.75) as a percentage: "75 %" in French, "75%" in English.
export function formatPercent(value) {
  return formatNumber(value, { style: "percent", maximumFractionDigits: 1 });
}

// A wait, short: "42 s", "12 min", "1.5 h", "2 d"; "–" when there is none.
export function formatDuration(seconds) {
  if (!isNumber(seconds)) return "–";
  const s = Math.max(0, seconds);
  const [unit, size] =
    s < 60 ? ["second", 1] : s < 3600 ? ["minute", 60] : s < 86400 ? ["hour", 3600] : ["day", 86400];
  return formatNumber(s / size, {
    style: "unit",
    unit,
    unitDisplay: "short",
    maximumFractionDigits: unit === "second" || unit === "minute" ? 0 : 1,
  });
}

// A counting window, in words: 3600 → "1 hour", "1 heure", "ساعة واحدة"; 600 → "10 minutes".
export function formatWindow(seconds) {
  const value = Number(seconds) || 0;
  const [amount, unit] =
    value % 3600 === 0 && value >= 3600
      ? [value / 3600, "hour"]
      : value % 60 === 0 && value >= 60
        ? [value / 60, "minute"]
        : [value, "second"];
  return new Intl.NumberFormat(state.lang, { style: "unit", unit, unitDisplay: "long" }).format(
    amount,
  );
}

// The browser's own regional variant of the interface language (en-GB, fr-CA…);
// Latin digits for Arabic, as in the Maghreb, so they match the scores.
function locale() {
  const own = (navigator.languages || []).find(
    (tag) => String(tag).toLowerCase().split("-")[0] === state.lang,
  );
  const tag = own || state.lang;
  return state.lang === "ar" ? `${tag}-u-nu-latn` : tag;
}

export function parseDate(iso) {
  const date = new Date(iso);
  return iso && !Number.isNaN(date.getTime()) ? date : null;
}

export function formatDate(iso) {
  const date = parseDate(iso);
  if (!date) return iso ? String(iso) : "–";
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(
    date,
  );
}

function formatRelative(iso) {
  const date = parseDate(iso);
  if (!date) return formatDate(iso);
  const seconds = (date.getTime() - Date.now()) / 1000;
  const format = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  const size = Math.abs(seconds);
  if (size < 60) return format.format(Math.round(seconds), "second");
  if (size < 3600) return format.format(Math.round(seconds / 60), "minute");
  if (size < 86400) return format.format(Math.round(seconds / 3600), "hour");
  return format.format(Math.round(seconds / 86400), "day");
}

export function formatAge(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t("age_seconds", { n: s });
  if (s < 3600) return t("age_minutes", { n: Math.round(s / 60) });
  if (s < 86400) return t("age_hours", { n: Math.round(s / 3600) });
  return t("age_days", { n: Math.round(s / 86400) });
}

export function timeElement(iso, { relative = false } = {}) {
  const node = el("time", "when", relative ? formatRelative(iso) : formatDate(iso));
  if (iso) node.dateTime = iso;
  if (relative) node.title = formatDate(iso);
  return node;
}

// ---------------------------------------------------------------------------
// Names: a language, a script, a status, a label, who decided
// ---------------------------------------------------------------------------
export function languageName(code) {
  if (!code) return "–";
  return hasString(`language_${code}`) ? t(`language_${code}`) : String(code);
}

export function scriptName(script) {
  if (!script) return "–";
  return hasString(`script_short_${script}`) ? t(`script_short_${script}`) : String(script);
}

export function statusName(status) {
  return t(`status_${status}`);
}

export function byName(by) {
  if (!by || by === "auto") return t("by_auto");
  if (by.startsWith("moderator:")) return t("by_moderator", { name: by.slice(10) });
  return by;
}

export function labelName(label) {
  const key = `label_${label}`;
  return t(key) === key ? String(label).replace(/_/g, " ") : t(key);
}

// A table's number cell (the fairness report, a policy trial), flagged or not.
export function numberCell(text, { title, flagged = false } = {}) {
  const cell = el("td", flagged ? "num is-flagged" : "num", text);
  if (title) cell.title = title;
  return cell;
}
