// Deciding: one comment, or the checked ones in bulk (with the bulk bar), what a
// rejection teaches the models, and comments handled elsewhere in the meantime.

import { api, failed } from "./api.js";
import { showDetail } from "./detail.js";
import { announce, formatCount, statusName } from "./format.js";
import {
  itemNode,
  likelyFineShown,
  loadStats,
  loadSummary,
  markSelected,
  removeItems,
  renderWhy,
  replaceItem,
} from "./queue.js";
import { $, state } from "./state.js";
import { t } from "./strings.js";

// What each action may start from (the API answers 409 otherwise).
const ACTIONS = {
  approve: ["held", "rejected"],
  reject: ["held"],
  takedown: ["published"],
};
// The actions offered for a comment in each state, in button order.
export const OFFERED = {
  held: ["approve", "reject"],
  rejected: ["approve"],
  published: ["takedown"],
};
export const ACTION_KEYS = { approve: "a", reject: "r", takedown: "t" };

function takeNote() {
  const input = $("note-input");
  const note = input.value.trim();
  input.value = "";
  return note;
}

// What a rejection or take-down teaches the models (spam, abusive, or nothing),
// as the API's flags; the choice goes back to "nothing" after each action.
function takeKind(action) {
  const chosen = document.querySelector('#reject-kind input[name="kind"]:checked');
  const kind = chosen ? chosen.value : "";
  const other = document.querySelector('#reject-kind input[name="kind"][value=""]');
  if (other) other.checked = true;
  if (action === "approve" || !kind) return {};
  return { [kind]: true };
}

export async function decideOne(id, action) {
  const item = state.items.find((i) => i.id === id);
  if (!item) {
    announce(t("nothing_selected"));
    return;
  }
  if (!(ACTIONS[action] || []).includes(item.status)) {
    announce(t("not_available"));
    return;
  }
  if (state.busy.has(id)) return;
  state.busy.add(id);
  itemNode(id)?.setAttribute("aria-busy", "true");
  const note = takeNote();
  const body = { action, from_status: item.status, ...takeKind(action) };
  if (note) body.reason = note;
  try {
    await api("POST", `/v1/moderation/comments/${encodeURIComponent(id)}/decision`, body);
    announce(t(`done_${action}`, { name: item.name || "" }));
    removeItems([id]);
    loadStats();
  } catch (error) {
    if (error.status === 409) {
      const now = error.problem.current_status;
      announce(t("conflict", { status: statusName(now) }), "error");
      await refreshItem(id);
    } else if (error.status === 404) {
      announce(t("gone"), "error");
      removeItems([id]);
    } else {
      failed(error);
    }
  } finally {
    state.busy.delete(id);
    itemNode(id)?.removeAttribute("aria-busy");
  }
}

// A comment that moved under our feet: fetch it again and show where it is now.
async function refreshItem(id) {
  let file;
  try {
    file = await api("GET", `/v1/moderation/comments/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error.status === 404) removeItems([id]);
    else failed(error);
    return;
  }
  const item = { ...file.comment, decision: file.decision };
  if (item.status !== state.queue) {
    state.notices.set(id, t("conflict_notice", { status: statusName(item.status) }));
    state.checked.delete(id);
  }
  replaceItem(item);
  renderBulkBar();
  if (state.selectedId === id) showDetail(file);
  loadStats();
}

// ---------------------------------------------------------------------------
// The checked comments, and what is done to them all at once
// ---------------------------------------------------------------------------
export function setChecked(id, checked) {
  if (checked) state.checked.add(id);
  else state.checked.delete(id);
  const pick = itemNode(id)?.querySelector(".pick");
  if (pick) pick.checked = checked;
  markSelected();
  renderBulkBar();
}

export function clearChecked() {
  state.checked.clear();
  for (const pick of document.querySelectorAll("#queue-list .pick")) pick.checked = false;
  markSelected();
  renderBulkBar();
}

export function renderBulkBar() {
  const count = state.checked.size;
  $("bulk-bar").hidden = count === 0 || state.view !== "queue";
  $("bulk-count").textContent = t("bulk_selected", { count });
  const offered = new Set(OFFERED[state.queue] || []);
  $("bulk-approve").hidden = !offered.has("approve");
  $("bulk-reject").hidden = !offered.has("reject");
  $("bulk-takedown").hidden = !offered.has("takedown");
}

// One confirmed bulk approval of the likely-fine comments on screen, audited one by one.
export async function approveLikelyFine() {
  const shown = likelyFineShown();
  if (!shown.length) return;
  if (!window.confirm(t("approve_likely_fine_confirm", { count: formatCount(shown.length) }))) {
    return;
  }
  state.checked = new Set(shown.map((i) => i.id));
  await decideMany("approve");
  renderWhy();
  loadSummary();
}

export async function decideMany(action) {
  const targets = state.items.filter(
    (i) => state.checked.has(i.id) && (ACTIONS[action] || []).includes(i.status),
  );
  if (!targets.length) {
    announce(t("bulk_none"));
    return;
  }
  const note = takeNote();
  const body = {
    action,
    items: targets.map((i) => ({ id: i.id, from_status: i.status })),
    ...takeKind(action),
  };
  if (note) body.reason = note;
  let answer;
  try {
    answer = await api("POST", "/v1/moderation/decisions", body);
  } catch (error) {
    failed(error);
    return;
  }
  const results = Array.isArray(answer.results) ? answer.results : [];
  const done = results.filter((r) => r.outcome === "ok").map((r) => r.id);
  const conflicts = results.filter((r) => r.outcome === "conflict").map((r) => r.id);
  const missing = results.filter((r) => r.outcome === "not_found").map((r) => r.id);
  removeItems([...done, ...missing]);
  for (const id of conflicts) await refreshItem(id);
  announce(
    t("bulk_done", { ok: done.length, conflict: conflicts.length, missing: missing.length }),
    conflicts.length ? "error" : undefined,
  );
  loadStats();
}
