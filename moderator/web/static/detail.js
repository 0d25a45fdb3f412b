// The selected comment's file: facts, scores, history; at phone width, the detail
// as a view of its own.

import { api, failed } from "./api.js";
import { OFFERED, decideOne } from "./decisions.js";
import {
  announce,
  byName,
  el,
  formatScore,
  labelName,
  languageName,
  statusName,
  timeElement,
  userText,
} from "./format.js";
import { highlighted, matchedTerms } from "./highlight.js";
import { itemNode, removeItems } from "./queue.js";
import { readByModel, reasonChips, reasonsOf, signalItem } from "./reasons.js";
import { $, state } from "./state.js";
import { t } from "./strings.js";

export function clearDetail() {
  state.detailSeq += 1;
  $("detail-body").hidden = true;
  $("detail-empty").hidden = false;
}

export async function loadDetail(id) {
  const seq = ++state.detailSeq;
  $("detail").setAttribute("aria-busy", "true");
  let file;
  try {
    file = await api("GET", `/v1/moderation/comments/${encodeURIComponent(id)}`);
  } catch (error) {
    if (seq === state.detailSeq) $("detail").removeAttribute("aria-busy");
    if (error.status === 404) {
      announce(t("gone"), "error");
      removeItems([id]);
    } else {
      failed(error);
    }
    return;
  }
  if (seq !== state.detailSeq || state.selectedId !== id) return;
  $("detail").removeAttribute("aria-busy");
  showDetail(file);
}

function fact(list, key, value, { user = false, code = false } = {}) {
  if (value === null || value === undefined || value === "") return;
  list.append(el("dt", null, t(key)));
  const dd = el("dd");
  if (value instanceof Node) dd.append(value);
  else if (user) dd.append(userText(code ? "code" : "span", null, value));
  else dd.append(el(code ? "code" : "span", null, value));
  list.append(dd);
}

// The automatic record, when the current one is a person's: it has the scores.
function scoredRecord(file) {
  const history = Array.isArray(file.history) ? file.history : [];
  const withScores = [file.decision, ...history.slice().reverse()].find((d) => d && d.scores);
  return withScores || file.decision || null;
}

// At phone width the detail is a view of its own: the comment, its reasons and the
// actions are repeated there (the queue's card is out of sight).
function renderDetailCard(id) {
  const box = $("detail-card");
  const item = state.items.find((i) => i.id === id);
  if (!item) {
    box.replaceChildren();
    return;
  }
  const body = userText("p", "body", "");
  body.replaceChildren(highlighted(String(item.body ?? ""), matchedTerms(item.decision)));
  const actions = el("div", "actions");
  for (const action of OFFERED[item.status] || []) {
    const button = el("button", `action ${action === "approve" ? "approve" : "reject"}`);
    button.type = "button";
    button.textContent = t(action);
    button.addEventListener("click", async () => {
      await decideOne(item.id, action);
      if (document.body.classList.contains("detail-open")) history.back();
    });
    actions.append(button);
  }
  box.replaceChildren(body);
  if (reasonsOf(item.decision).length) box.append(reasonChips(item.decision));
  box.append(actions);
}

export function showDetail(file) {
  const comment = file.comment || {};
  const scored = scoredRecord(file);
  renderDetailCard(comment.id);
  const facts = $("detail-facts");
  facts.replaceChildren();
  fact(facts, "fact_name", comment.name, { user: true });
  fact(facts, "fact_article", comment.article_id, { user: true, code: true });
  fact(facts, "fact_parent", comment.parent_id, { user: true, code: true });
  fact(facts, "fact_url", comment.url, { user: true, code: true });
  fact(facts, "fact_status", statusName(comment.status));
  fact(facts, "fact_created", timeElement(comment.created_at));
  if (comment.decided_at) fact(facts, "fact_decided", timeElement(comment.decided_at));
  const language = scored && scored.language;
  if (language && language.code) {
    const script = language.script && language.script !== "none";
    const text = languageName(language.code) + (script ? ` · ${t(`script_${language.script}`)}` : "");
    fact(facts, "fact_language", text);
  }
  if (comment.email_hash) {
    fact(facts, "fact_email_hash", String(comment.email_hash).slice(0, 16), { code: true });
  }
  if (scored && scored.model && scored.model.name) {
    fact(facts, "fact_model", scored.model.name, { code: true });
  }
  if (scored && scored.policy) {
    fact(facts, "fact_policy", String(scored.policy).slice(0, 12), { code: true });
  }
  renderScores($("detail-scores"), scored);
  renderAudit($("detail-audit"), Array.isArray(file.history) ? file.history : []);
  $("detail-empty").hidden = true;
  $("detail-body").hidden = false;
}

function renderAudit(list, history) {
  list.replaceChildren();
  if (!history.length) {
    list.append(el("li", "muted", t("audit_empty")));
    return;
  }
  for (const record of history) {
    const entry = el("li", `audit-entry ${record.by === "auto" ? "is-auto" : "is-human"}`);
    const head = el("div", "audit-head");
    head.append(el("span", `status-badge status-${record.decision}`, statusName(record.decision)));
    const by = userText("span", "audit-by", byName(record.by));
    by.title = String(record.by || "");
    head.append(by);
    head.append(timeElement(record.at));
    entry.append(head);
    if (record.action) entry.append(el("p", "audit-action", t("action_label", { action: t(record.action) })));
    if (reasonsOf(record).length) entry.append(reasonChips(record));
    if (record.by === "auto" && (record.model || record.policy)) {
      const model = (record.model && record.model.name) || "–";
      const policy = record.policy ? String(record.policy).slice(0, 12) : "–";
      entry.append(el("p", "audit-model", t("audit_model", { model, policy })));
    }
    if (record.note) entry.append(userText("p", "audit-note", record.note));
    list.append(entry);
  }
}

// ---------------------------------------------------------------------------
// Scores: a bar per label against its threshold, then spam's with its signals
// ---------------------------------------------------------------------------
function thresholdsOf(decision) {
  const thresholds = {};
  for (const reason of reasonsOf(decision)) {
    if (String(reason.code).startsWith("toxicity.") && typeof reason.threshold === "number") {
      thresholds[reason.code.slice(9)] = reason.threshold;
    }
  }
  return thresholds;
}

function scoreRow(name, value, threshold) {
  const row = el("div", "score-row");
  row.append(el("span", "score-name", name));
  const meter = document.createElement("meter");
  meter.min = 0;
  meter.max = 1;
  meter.value = typeof value === "number" ? value : 0;
  if (typeof threshold === "number") {
    // At or under the threshold reads as fine, over it as a warning.
    meter.low = threshold;
    meter.high = threshold;
    meter.optimum = 0;
  }
  meter.setAttribute("aria-label", name);
  row.append(meter);
  let text = formatScore(value);
  if (typeof threshold === "number") text += ` ≥ ${formatScore(threshold)}`;
  const number = el("span", "score-value", text);
  number.dir = "ltr";
  row.append(number);
  if (typeof threshold === "number" && value >= threshold) row.classList.add("is-over");
  return row;
}

function renderScores(container, decision) {
  container.replaceChildren();
  const scores = (decision && decision.scores) || {};
  const toxicity = scores.toxicity || {};
  const thresholds = thresholdsOf(decision);
  // No bars for a language the model does not read: its scores say nothing, and
  // bars at 0 would read as "checked and clean".
  const unread = !readByModel(decision);
  const labels = unread ? [] : Object.keys(toxicity).sort((x, y) => toxicity[y] - toxicity[x]);
  for (const label of labels) {
    container.append(scoreRow(labelName(label), toxicity[label], thresholds[label]));
  }
  if (scores.spam && typeof scores.spam.score === "number") {
    const spamReason = reasonsOf(decision).find((r) => String(r.code).startsWith("spam."));
    container.append(scoreRow(t("spam_score"), scores.spam.score, spamReason?.threshold));
    const signals = Array.isArray(scores.spam.signals) ? scores.spam.signals : [];
    if (signals.length) {
      const list = el("ul", "signals");
      for (const signal of signals) list.append(signalItem("li", signal));
      container.append(list);
    }
  }
  if (!labels.length) {
    const failed = reasonsOf(decision).some((r) => r.code === "check_failed.toxicity");
    const key = unread ? "toxicity_not_scored_language" : "toxicity_not_scored";
    if (!failed) container.prepend(el("p", "muted not-scored", t(key)));
  }
  if (!container.childElementCount) container.append(el("p", "muted", t("no_scores")));
}

// ---------------------------------------------------------------------------
// At phone width a comment opens in its own view; back returns to the queue
// where it was (the browser's back button too).
// ---------------------------------------------------------------------------
export const PHONE = window.matchMedia("(max-width: 40rem)");
let queueScroll = 0;

export function openDetailView() {
  if (document.body.classList.contains("detail-open")) return;
  queueScroll = window.scrollY;
  document.body.classList.add("detail-open");
  history.pushState({ detail: state.selectedId }, "");
  window.scrollTo(0, 0);
  $("detail-back").focus();
}

export function closeDetailView() {
  if (!document.body.classList.contains("detail-open")) return;
  document.body.classList.remove("detail-open");
  window.scrollTo(0, queueScroll);
  const li = state.selectedId ? itemNode(state.selectedId) : null;
  if (li) li.focus({ preventScroll: true });
}
