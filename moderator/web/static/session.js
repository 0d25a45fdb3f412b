// Signing in and out: the token is checked with GET /v1/moderation/me and kept in
// the tab's sessionStorage only.

import { api, problemMessage } from "./api.js";
import { clearDetail } from "./detail.js";
import { announce } from "./format.js";
import { loadQueue, loadStats, showView } from "./queue.js";
import { $, state } from "./state.js";
import { t } from "./strings.js";

export const TOKEN_KEY = "moderator.token";

export async function signIn(token, { quiet } = {}) {
  state.token = token;
  try {
    const me = await api("GET", "/v1/moderation/me");
    state.me = me.name;
    if (me.windows) state.windows = me.windows;
  } catch (error) {
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn();
    if (error.status === 401 || error.status === 403) {
      if (!quiet) showSignInError(t("token_refused"));
      else announce(t("session_ended"));
    } else {
      showSignInError(problemMessage(error));
    }
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  showWorkspace();
  announce(t("welcome", { name: state.me }));
  await Promise.all([loadQueue({ focus: true }), loadStats()]);
}

export function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.me = null;
  state.items = [];
  state.checked.clear();
  state.notices.clear();
  state.selectedId = null;
  $("queue-list").replaceChildren();
  clearDetail();
  state.report = null;
  state.reportWindow = null;
  $("report-rows").replaceChildren();
  showView("queue");
  showSignIn();
  announce(message || t("signed_out"));
}

export function showSignInError(message) {
  const error = $("signin-error");
  error.textContent = message;
  error.hidden = false;
  $("token-input").setAttribute("aria-invalid", "true");
  $("token-input").focus();
}

export function showSignIn() {
  $("workspace").hidden = true;
  $("signin").hidden = false;
  $("sign-out").hidden = true;
  $("signed-in-as").hidden = true;
  $("help-button").hidden = true;
  $("token-input").value = "";
  $("token-input").focus();
}

function showWorkspace() {
  $("signin").hidden = true;
  $("signin-error").hidden = true;
  $("token-input").value = "";
  $("token-input").removeAttribute("aria-invalid");
  $("workspace").hidden = false;
  $("sign-out").hidden = false;
  $("help-button").hidden = false;
  const who = $("signed-in-as");
  who.textContent = t("signed_in_as", { name: state.me });
  who.dir = "auto";
  who.hidden = false;
}
