// Why a comment was held or rejected, in plain words: reason chips (score against
// threshold, the matched word, the language) and the spam signals.

import {
  el,
  formatWindow,
  formatScore,
  isNumber,
  labelName,
  languageName,
  userText,
} from "./format.js";
import { state } from "./state.js";
import { hasString, t } from "./strings.js";

export function reasonsOf(decision) {
  return decision && Array.isArray(decision.reasons) ? decision.reasons : [];
}

export function reasonFamily(code) {
  return String(code).split(".")[0].replace(/[^a-z_]/g, "");
}

// A reason code in plain words: "toxicity.insult" is "insult", "spam.likely" "likely spam".
export function reasonName(code) {
  const [family, ...rest] = String(code).split(".");
  const detail = rest.join(".");
  if (family === "toxicity") return labelName(detail);
  const key = `reason_${String(code).replace(/\./g, "_")}`;
  if (hasString(key)) return t(key);
  if (family === "check_failed") return t("reason_check_failed", { check: labelName(detail) });
  return String(code);
}

// One chip per reason: its name, then what it rests on (score ≥ threshold,
// the matched word, the language): "insult 0.93 ≥ 0.60", "insulte : 0,93 ≥ 0,60".
function reasonChip(reason) {
  const chip = el("li", `chip chip-${reasonFamily(reason.code)}`);
  chip.title = String(reason.code);
  chip.append(el("span", "chip-label", reasonName(reason.code)));
  if (isNumber(reason.score)) {
    let text = formatScore(reason.score);
    if (isNumber(reason.threshold)) text += ` ≥ ${formatScore(reason.threshold)}`;
    const score = el("span", "chip-score", text);
    score.dir = "ltr"; // "0.93 ≥ 0.60" reads the same in a right-to-left interface
    chip.append(document.createTextNode(t("score_separator")), score);
  }
  if (reason.match) {
    chip.append(
      document.createTextNode(t("detail_separator")),
      userText("span", "chip-match", reason.match),
    );
    // What the listed word means, "7mar (« âne », insulte)"; its languages in the tooltip.
    if (reason.meaning) {
      chip.append(" ", userText("span", "chip-meaning", `(${reason.meaning})`));
    }
    if (Array.isArray(reason.languages)) chip.title += ` · ${reason.languages.join(" ")}`;
    // A listed term only inside quotation marks: reported speech, read by a person.
    if (reason.detail === "quoted") chip.append(" ", el("span", "chip-quoted", t("reason_quoted")));
  }
  if (reason.detail && reason.detail !== "quoted" && LANGUAGE_ONLY.has(reason.code)) {
    chip.append(document.createTextNode(t("detail_separator") + languageName(reason.detail)));
  }
  return chip;
}

// A spam reason also says what gave the comment away, in words.
export function reasonChips(decision) {
  const list = el("ul", "chips");
  const signals = decision && decision.scores && decision.scores.spam && decision.scores.spam.signals;
  for (const reason of reasonsOf(decision)) {
    const chip = reasonChip(reason);
    if (String(reason.code).startsWith("spam.") && Array.isArray(signals) && signals.length) {
      const why = el("span", "chip-signals");
      signals.forEach((signal, index) => {
        if (index) why.append(", ");
        why.append(signalItem("span", signal));
      });
      chip.append(t("detail_separator"), why);
    }
    list.append(chip);
  }
  return list;
}

const LANGUAGE_ONLY = new Set([
  "language.not_covered",
  "site_model.unproven",
  "site_model.sensitive",
  "site_model.audit_sample",
]);

// Whether the toxicity model reads the comment's language: the record says so
// (`language.read_by_model`); older records only through their reasons.
export function readByModel(decision) {
  const language = (decision && decision.language) || {};
  if (typeof language.read_by_model === "boolean") return language.read_by_model;
  return !reasonsOf(decision).some((r) => LANGUAGE_ONLY.has(r.code));
}

// A spam signal from the worker ("repeated_body:5", "burst_ip:6", "links:3") in plain
// words: "the same text sent 5 more times in 1 hour". One the page does not know is
// shown as it came; the site model's clues (readers' words) stay isolated text.
export function signalItem(tag, signal) {
  const text = String(signal);
  const cut = text.indexOf(":");
  const [name, detail] = cut < 0 ? [text, ""] : [text.slice(0, cut), text.slice(cut + 1)];
  const key = `signal_${name}`;
  if (!/^[a-z_]+$/.test(name) || !hasString(key)) return userText(tag, "signal", text);
  const item = el(tag, "signal");
  item.title = text;
  if (name === "content" || name === "content_weak") {
    item.append(t(key));
    if (detail) item.append(t("detail_separator"), userText("span", "signal-clues", detail));
    return item;
  }
  const window = name === "repeated_body" ? state.windows.spam_s : state.windows.burst_s;
  const n = name === "bayes" ? formatScore(Number(detail)) : detail.replace(/s$/, "");
  item.append(t(key, { n, window: formatWindow(window) }));
  return item;
}
