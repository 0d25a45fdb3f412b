// The moderators' page: plain JavaScript in ES modules, no framework, no build step.
// This module chooses the interface language, wires the page's controls and starts.
//
// Safety rules kept throughout these modules:
// - every text that comes from a reader or from the API is put in the page with
//   textContent / createTextNode, never parsed as HTML (no innerHTML anywhere);
// - every such text gets dir="auto", so Arabic reads right to left;
// - the token lives in sessionStorage only and travels in the Authorization header,
//   never in a URL.

import { approveLikelyFine, clearChecked, decideMany } from "./decisions.js";
import { closeDetailView, loadDetail } from "./detail.js";
import { onKeyDown, renderHelp, toggleHelp } from "./keys.js";
import { openPolicy, promotePolicy, tryPolicy } from "./policy.js";
import { loadQueue, loadStats, renderQueue, renderWhy, switchQueue } from "./queue.js";
import { downloadReport, loadReport, onRangeChange, openReport, renderReport } from "./report.js";
import { TOKEN_KEY, showSignIn, showSignInError, signIn, signOut } from "./session.js";
import { $, state } from "./state.js";
import { LANGUAGES, RTL_LANGUAGES, t } from "./strings.js";

const LANG_KEY = "moderator.language";

function pickLanguage() {
  const stored = localStorage.getItem(LANG_KEY);
  if (stored && LANGUAGES.includes(stored)) return stored;
  for (const tag of navigator.languages || [navigator.language || ""]) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(base)) return base;
  }
  return "en";
}

function applyLanguage() {
  const root = document.documentElement;
  root.lang = state.lang;
  root.dir = RTL_LANGUAGES.has(state.lang) ? "rtl" : "ltr";
  $("lang-select").value = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  if (state.me) $("signed-in-as").textContent = t("signed_in_as", { name: state.me });
  renderHelp();
  renderWhy();
}

function wire() {
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) {
      showSignInError(t("token_missing"));
      return;
    }
    signIn(token);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("lang-select").addEventListener("change", (event) => {
    state.lang = LANGUAGES.includes(event.target.value) ? event.target.value : "en";
    localStorage.setItem(LANG_KEY, state.lang);
    applyLanguage();
    if (state.token) {
      renderQueue();
      if (state.selectedId) loadDetail(state.selectedId);
      loadStats();
      renderReport();
    }
  });
  for (const button of document.querySelectorAll(".state")) {
    button.addEventListener("click", () => switchQueue(button.dataset.state));
  }
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    state.filters.article_id = $("filter-article").value.trim();
    state.filters.language = $("filter-language").value;
    loadQueue();
  });
  for (const [id, name] of [
    ["filter-family", "family"],
    ["filter-rank", "rank"],
  ]) {
    $(id).addEventListener("change", (event) => {
      state.filters[name] = event.target.value;
      loadQueue();
    });
  }
  $("approve-likely-fine").addEventListener("click", () => approveLikelyFine());
  $("detail-back").addEventListener("click", () => history.back());
  window.addEventListener("popstate", () => closeDetailView());
  $("refresh").addEventListener("click", () => {
    loadQueue();
    loadStats();
  });
  $("load-more").addEventListener("click", () => loadQueue({ append: true }));
  $("report-tab").addEventListener("click", openReport);
  $("policy-tab").addEventListener("click", openPolicy);
  $("policy-form").addEventListener("submit", (event) => {
    event.preventDefault();
    tryPolicy();
  });
  $("policy-promote").addEventListener("click", () => promotePolicy());
  $("report-range").addEventListener("change", onRangeChange);
  $("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadReport();
  });
  $("report-csv").addEventListener("click", () => downloadReport("csv"));
  $("report-json").addEventListener("click", () => downloadReport("json"));
  $("bulk-approve").addEventListener("click", () => decideMany("approve"));
  $("bulk-reject").addEventListener("click", () => decideMany("reject"));
  $("bulk-takedown").addEventListener("click", () => decideMany("takedown"));
  $("bulk-clear").addEventListener("click", clearChecked);
  $("help-button").addEventListener("click", toggleHelp);
  $("help-close").addEventListener("click", () => $("help-dialog").close());
  $("status").addEventListener("click", () => $("status").replaceChildren());
  document.addEventListener("keydown", onKeyDown);
}

function start() {
  state.lang = pickLanguage();
  applyLanguage();
  wire();
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) signIn(token, { quiet: true });
  else showSignIn();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
