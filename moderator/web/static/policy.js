// Try a policy: replayed by a worker over the last decisions, then promoted.

import { api, failed } from "./api.js";
import {
  announce,
  el,
  formatCount,
  formatScore,
  isNumber,
  labelName,
  languageName,
  numberCell,
  statusName,
  userText,
} from "./format.js";
import { showView } from "./queue.js";
import { $, state } from "./state.js";
import { t } from "./strings.js";

const POLICY_LABELS = [
  "toxicity",
  "severe_toxicity",
  "obscene",
  "identity_attack",
  "insult",
  "threat",
  "sexual_explicit",
];
const POLL_MS = 400;

export async function openPolicy() {
  if (state.view === "policy") return;
  showView("policy");
  renderPolicyInputs();
  try {
    state.policy = await api("GET", "/v1/moderation/policy");
  } catch (error) {
    failed(error);
    return;
  }
  renderPolicyInputs();
}

// One input per label, its placeholder the threshold in force.
function renderPolicyInputs() {
  const box = $("policy-thresholds");
  const current = (state.policy && state.policy.thresholds) || {};
  if (!box.childElementCount) {
    for (const label of POLICY_LABELS) {
      const field = el("label");
      const input = el("input");
      Object.assign(input, { type: "number", min: "0", max: "1", step: "0.01" });
      input.id = `policy-threshold-${label}`;
      input.inputMode = "decimal";
      field.append(el("span", null, labelName(label)), input);
      box.append(field);
    }
  }
  for (const label of POLICY_LABELS) {
    const input = $(`policy-threshold-${label}`);
    input.previousElementSibling.textContent = labelName(label);
    input.placeholder = isNumber(current[label]) ? formatScore(current[label]) : "";
  }
  for (const name of ["spam_hold", "spam_reject"]) {
    const value = state.policy && state.policy[name];
    $(`policy-${name}`).placeholder = isNumber(value) ? formatScore(value) : "";
  }
}

function policyCandidate() {
  const candidate = { last: Number($("policy-last").value) || 500 };
  const thresholds = {};
  for (const label of POLICY_LABELS) {
    const raw = $(`policy-threshold-${label}`).value;
    if (raw !== "") thresholds[label] = Number(raw);
  }
  if (Object.keys(thresholds).length) candidate.thresholds = thresholds;
  for (const name of ["spam_hold", "spam_reject"]) {
    const raw = $(`policy-${name}`).value;
    if (raw !== "") candidate[name] = Number(raw);
  }
  const rule = $("policy-language_not_covered").value;
  if (rule) candidate.language_not_covered = rule;
  return candidate;
}

export async function tryPolicy() {
  $("policy-result").hidden = true;
  $("policy-status").textContent = t("policy_pending");
  let asked;
  try {
    asked = await api("POST", "/v1/moderation/policy/trials", policyCandidate());
  } catch (error) {
    $("policy-status").textContent = "";
    failed(error);
    return;
  }
  state.trialId = asked.id;
  const trial = await pollTrial(asked.id, ["pending"]);
  if (trial) renderTrial(trial);
}

// The trial once its status is none of `waiting` (a worker picks it up before its
// next batch); null when it could not be read.
async function pollTrial(id, waiting) {
  for (;;) {
    let trial;
    try {
      trial = await api("GET", `/v1/moderation/policy/trials/${encodeURIComponent(id)}`);
    } catch (error) {
      failed(error);
      return null;
    }
    if (!waiting.includes(trial.status)) return trial;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function renderTrial(trial) {
  if (trial.status === "failed") {
    $("policy-status").textContent = t("policy_failed", { error: trial.error || "" });
    return;
  }
  const report = trial.report || {};
  $("policy-status").textContent = t("policy_done", {
    changed: formatCount(report.changed || 0),
    evaluated: formatCount(report.evaluated || 0),
  });
  const rows = Object.entries(report.languages || {}).map(([code, counts]) => {
    const tr = el("tr");
    tr.append(el("th", null, languageName(code)));
    tr.append(numberCell(formatCount(counts.evaluated)));
    tr.append(numberCell(`${formatCount(counts.held_now)} → ${formatCount(counts.held_candidate)}`));
    tr.append(
      numberCell(`${formatCount(counts.rejected_now)} → ${formatCount(counts.rejected_candidate)}`),
    );
    tr.append(numberCell(formatCount(counts.changed), { flagged: counts.changed > 0 }));
    tr.firstChild.scope = "row";
    return tr;
  });
  $("policy-rows").replaceChildren(...rows);
  const examples = [];
  for (const [transition, found] of Object.entries(report.examples || {})) {
    const [before, after] = transition.split("->");
    examples.push(el("h3", null, `${statusName(before)} → ${statusName(after)}`));
    const list = el("ul", "policy-examples");
    for (const example of found) {
      const li = el("li");
      li.append(el("span", "lang-chip", languageName(example.language)), " ");
      li.append(userText("span", "body", example.text));
      list.append(li);
    }
    examples.push(list);
  }
  $("policy-examples").replaceChildren(...examples);
  $("policy-promote").hidden = !report.changed;
  $("policy-result").hidden = false;
}

export async function promotePolicy() {
  if (!state.trialId || !window.confirm(t("policy_promote_confirm"))) return;
  try {
    await api("POST", `/v1/moderation/policy/trials/${encodeURIComponent(state.trialId)}/promote`);
  } catch (error) {
    failed(error);
    return;
  }
  $("policy-status").textContent = t("policy_promoting");
  const trial = await pollTrial(state.trialId, ["done", "promoting"]);
  if (!trial) return;
  if (trial.status === "promoted") {
    $("policy-status").textContent = t("policy_promoted");
    $("policy-promote").hidden = true;
    announce(t("policy_promoted"));
  } else {
    $("policy-status").textContent = t("policy_failed", { error: trial.error || "" });
  }
}
