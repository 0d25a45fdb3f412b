// The fairness report: per language and script, for a window of time, with its
// flags, and its CSV and JSON downloads.

import { ApiError, api, failed, queryString, request } from "./api.js";
import {
  announce,
  el,
  formatCount,
  formatDate,
  formatDuration,
  formatNumber,
  formatPercent,
  isNumber,
  languageName,
  numberCell,
  parseDate,
  scriptName,
} from "./format.js";
import { showView } from "./queue.js";
import { reasonFamily, reasonName } from "./reasons.js";
import { $, state } from "./state.js";
import { hasString, t } from "./strings.js";

const HOUR_MS = 3600 * 1000;
const RANGES = { "24h": 24 * HOUR_MS, "7d": 7 * 24 * HOUR_MS };
const REPORT_PATH = "/v1/moderation/report";
// The rates a flag can name (report.py), and the column each one highlights.
const FLAGGED_COLUMNS = { hold_rate: "hold_rate", false_positive_rate: "false_positive_rate" };
const FLAG_PATTERN = /^([a-z_]+) (\d+(?:\.\d+)?) vs (\d+(?:\.\d+)?) for the others$/;

export function openReport() {
  if (state.view === "report") return;
  showView("report");
  loadReport();
}

// "2024-05-01T10:00" for an <input type="datetime-local">, in the browser's time zone.
function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

export function onRangeChange() {
  const custom = $("report-range").value === "custom";
  for (const label of document.querySelectorAll(".report-custom")) label.hidden = !custom;
  if (custom) {
    // Start from the window shown, so "custom" begins as a small change of it.
    const shown = state.reportWindow;
    const until = shown ? new Date(shown.until) : new Date();
    const since = shown ? new Date(shown.since) : new Date(until.getTime() - RANGES["24h"]);
    if (!$("report-since").value) $("report-since").value = localInputValue(since);
    if (!$("report-until").value) $("report-until").value = localInputValue(until);
    $("report-since").focus();
  } else {
    loadReport();
  }
}

// The window the picker describes, or null when the custom one is incomplete or reversed.
function pickedWindow() {
  const range = $("report-range").value;
  if (range in RANGES) {
    const until = new Date();
    return {
      since: new Date(until.getTime() - RANGES[range]).toISOString(),
      until: until.toISOString(),
    };
  }
  const since = parseDate($("report-since").value);
  const until = parseDate($("report-until").value);
  if (!since || !until || since > until) return null;
  return { since: since.toISOString(), until: until.toISOString() };
}

export async function loadReport() {
  const period = pickedWindow();
  if (!period) {
    announce(t("report_window_invalid"), "error");
    return;
  }
  const seq = ++state.reportSeq;
  $("report").setAttribute("aria-busy", "true");
  let report;
  try {
    report = await api("GET", `${REPORT_PATH}?${queryString({ ...period, format: "json" })}`);
  } catch (error) {
    failed(error);
    return;
  } finally {
    if (seq === state.reportSeq) $("report").removeAttribute("aria-busy");
  }
  if (seq !== state.reportSeq) return;
  state.report = report || {};
  state.reportWindow = period;
  renderReport();
  announce(t("report_loaded", { count: reportRows().length }));
}

function reportRows() {
  const report = state.report || {};
  return Array.isArray(report.languages) ? report.languages : [];
}

export function renderReport() {
  const report = state.report;
  if (!report) return;
  const rows = reportRows();
  $("report-shown").textContent = t("report_shown", {
    since: formatDate(report.since),
    until: formatDate(report.until),
  });
  $("report-rows").replaceChildren(...rows.flatMap(reportRow));
  $("report-table").hidden = !rows.length;
  $("report-empty").hidden = rows.length > 0;
  const rules = report.rules || {};
  $("report-rules").textContent =
    isNumber(rules.min_comments_to_flag) && isNumber(rules.min_difference) && isNumber(rules.alpha)
      ? t("report_rules", {
          min: formatCount(rules.min_comments_to_flag),
          difference: formatNumber(rules.min_difference * 100, { maximumFractionDigits: 0 }),
          alpha: formatNumber(rules.alpha, { maximumFractionDigits: 3 }),
        })
      : "";
}

// A flag from the API ("hold_rate 1.00 vs 0.20 for the others") in plain words;
// one the page does not know is shown as it came.
function parseFlag(flag) {
  const found = FLAG_PATTERN.exec(String(flag));
  if (!found || !hasString(`flag_rate_${found[1]}`)) return { rate: null, text: String(flag) };
  const [, rate, value, typical] = found;
  const above = Number(value) > Number(typical);
  const text = t(above ? "flag_above" : "flag_below", {
    rate: t(`flag_rate_${rate}`),
    value: formatPercent(Number(value)),
    typical: formatPercent(Number(typical)),
  });
  return { rate, text };
}

function reasonCounts(reasons) {
  const list = el("ul", "reason-counts");
  for (const [code, count] of Object.entries(reasons || {})) {
    const entry = el("li", `chip chip-${reasonFamily(code)}`);
    entry.title = code;
    entry.append(el("span", "reason-count", formatCount(count)), el("span", null, reasonName(code)));
    list.append(entry);
  }
  return list;
}

// A language's row, then, when it is flagged, a row that says why.
function reportRow(row) {
  const flags = (Array.isArray(row.flags) ? row.flags : []).map(parseFlag);
  const flaggedRates = new Set(flags.map((f) => FLAGGED_COLUMNS[f.rate]).filter(Boolean));
  const ratio = (n, of) => t("report_ratio", { n: formatCount(n), of: formatCount(of) });
  const tr = el("tr", flags.length ? "report-row is-flagged" : "report-row");
  tr.dataset.language = String(row.language ?? "");
  tr.dataset.script = String(row.script ?? "");
  const language = el("th", "report-language", languageName(row.language));
  language.scope = "row";
  tr.append(
    language,
    el("td", "report-script", scriptName(row.script)),
    numberCell(formatCount(row.seen)),
    numberCell(formatCount(row.published)),
    numberCell(formatCount(row.held)),
    numberCell(formatCount(row.rejected)),
    numberCell(formatPercent(row.hold_rate), {
      title: ratio(row.held, row.seen),
      flagged: flaggedRates.has("hold_rate"),
    }),
    numberCell(formatCount(row.approved_after_hold)),
    numberCell(formatPercent(row.false_positive_rate), {
      title: ratio(row.approved_after_hold, row.held),
      flagged: flaggedRates.has("false_positive_rate"),
    }),
    numberCell(formatCount(row.rejected_after_hold)),
    numberCell(formatCount(row.taken_down_after_publish)),
    numberCell(formatPercent(row.false_negative_rate), {
      title: ratio(row.taken_down_after_publish, row.published),
    }),
    numberCell(formatDuration(row.held_wait_median_s)),
    numberCell(formatDuration(row.held_wait_max_s)),
  );
  const reasons = el("td", "report-reasons");
  reasons.append(reasonCounts(row.reasons));
  tr.append(reasons);
  if (!flags.length) return [tr];
  const flagRow = el("tr", "flag-row");
  const cell = el("td");
  cell.colSpan = tr.children.length;
  const list = el("ul", "flags");
  for (const flag of flags) {
    const entry = el("li", "flag");
    const mark = el("span", "flag-mark", "⚑");
    mark.setAttribute("aria-hidden", "true");
    entry.append(mark, el("span", null, `${languageName(row.language)} · ${flag.text}`));
    list.append(entry);
  }
  cell.append(list);
  flagRow.append(cell);
  return [tr, flagRow];
}

// "fairness-20240501T1000Z-20240502T1000Z.csv": the window in the name, safe everywhere.
function reportFileName(period, format) {
  const stamp = (iso) => iso.slice(0, 16).replace(/[-:]/g, "") + "Z";
  return `fairness-${stamp(period.since)}-${stamp(period.until)}.${format}`;
}

// The report of the window shown, fetched with the token (never in a URL) and saved
// from a Blob through an object URL.
export async function downloadReport(format) {
  const period = state.reportWindow || pickedWindow();
  if (!period) {
    announce(t("report_window_invalid"), "error");
    return;
  }
  const accept = format === "csv" ? "text/csv" : "application/json";
  let blob;
  try {
    const path = `${REPORT_PATH}?${queryString({ ...period, format })}`;
    blob = await (await request("GET", path, { accept })).blob();
  } catch (error) {
    failed(error instanceof ApiError ? error : new ApiError(0, null));
    return;
  }
  const name = reportFileName(period, format);
  const url = URL.createObjectURL(blob);
  const link = el("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  announce(t("report_downloaded", { name }));
}
