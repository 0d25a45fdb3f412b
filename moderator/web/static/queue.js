// The queue: loading, rendering and selecting comments, the "why" filters (reason
// family, site model rank) with their counts, and which view is shown.

import { api, failed, queryString } from "./api.js";
import { ACTION_KEYS, OFFERED, decideOne, renderBulkBar, setChecked } from "./decisions.js";
import { PHONE, clearDetail, loadDetail, openDetailView } from "./detail.js";
import {
  el,
  formatAge,
  formatCount,
  isNumber,
  languageName,
  statusName,
  timeElement,
  userText,
} from "./format.js";
import { highlighted, matchedTerms } from "./highlight.js";
import { reasonChips, reasonsOf } from "./reasons.js";
import { $, state } from "./state.js";
import { t } from "./strings.js";

const PAGE_SIZE = 50;

export async function loadQueue({ append = false, focus = false } = {}) {
  const seq = ++state.queueSeq;
  const params = {
    state: state.queue,
    article_id: state.filters.article_id,
    language: state.filters.language,
    family: state.filters.family,
    rank: state.filters.rank,
    limit: PAGE_SIZE,
    cursor: append ? state.nextCursor : null,
  };
  $("queue-list").setAttribute("aria-busy", "true");
  let page;
  try {
    page = await api("GET", `/v1/moderation/queue?${queryString(params)}`);
  } catch (error) {
    failed(error);
    return;
  } finally {
    if (seq === state.queueSeq) $("queue-list").removeAttribute("aria-busy");
  }
  if (seq !== state.queueSeq) return;
  const items = likelyFineFirst(Array.isArray(page.items) ? page.items : []);
  if (append) {
    state.items.push(...items.filter((i) => !state.items.some((j) => j.id === i.id)));
  } else {
    state.items = items;
    state.checked.clear();
    state.notices.clear();
  }
  state.nextCursor = page.next_cursor || null;
  renderQueue();
  if (!append) loadSummary();
  if (!append) {
    const keep = state.items.find((i) => i.id === state.selectedId);
    select(keep ? keep.id : state.items[0]?.id ?? null, { focus });
  }
}

export async function loadStats() {
  let stats;
  try {
    stats = await api("GET", "/v1/moderation/stats");
  } catch (error) {
    if (error.status === 401 || error.status === 403) failed(error);
    return;
  }
  const queues = stats.queues || {};
  for (const node of document.querySelectorAll("[data-count]")) {
    const count = queues[node.dataset.count];
    node.textContent = typeof count === "number" ? String(count) : "";
  }
  const oldest = stats.oldest_held_age_s;
  $("oldest").textContent =
    typeof oldest === "number" ? t("oldest_held", { age: formatAge(oldest) }) : "";
}

export function renderQueue() {
  const list = $("queue-list");
  list.replaceChildren(...state.items.map(renderItem));
  renderWhy();
  $("queue-empty").hidden = state.items.length > 0;
  $("load-more").hidden = !state.nextCursor;
  for (const button of document.querySelectorAll(".state")) {
    const pressed = state.view === "queue" && button.dataset.state === state.queue;
    button.setAttribute("aria-pressed", String(pressed));
  }
  markSelected();
  renderBulkBar();
}

export function itemNode(id) {
  return document.querySelector(`#queue-list > li[data-id="${CSS.escape(id)}"]`);
}

function renderItem(item) {
  const decision = item.decision || null;
  const li = el("li", "item");
  li.dataset.id = item.id;
  li.tabIndex = -1;
  li.setAttribute("aria-labelledby", `name-${item.id}`);

  const head = el("div", "item-head");
  const pick = document.createElement("input");
  pick.type = "checkbox";
  pick.className = "pick";
  pick.checked = state.checked.has(item.id);
  pick.setAttribute("aria-label", t("select_comment", { name: item.name || "" }));
  pick.addEventListener("change", () => setChecked(item.id, pick.checked));
  head.append(pick);

  const name = userText("span", "name", item.name);
  name.id = `name-${item.id}`;
  name.replaceChildren(highlighted(String(item.name ?? ""), matchedTerms(decision)));
  head.append(name);

  const meta = el("span", "meta");
  meta.append(el("span", "meta-label", `${t("article")} `));
  meta.append(userText("span", "article-id", item.article_id));
  const language = decision && decision.language;
  if (language && language.code) {
    meta.append(el("span", "lang-chip", languageName(language.code)));
  }
  if (item.status === "held" && decision && RANKS.includes(decision.rank)) {
    meta.append(el("span", `rank-chip rank-${decision.rank}`, t(`rank_chip_${decision.rank}`)));
  }
  meta.append(timeElement(item.created_at, { relative: true }));
  head.append(meta);
  li.append(head);

  if (item.parent_id) {
    const reply = el("p", "reply", `${t("reply_to")} `);
    reply.append(userText("span", "parent-id", item.parent_id));
    li.append(reply);
  }

  const body = userText("p", "body", "");
  body.append(highlighted(String(item.body ?? ""), matchedTerms(decision)));
  li.append(body);

  if (reasonsOf(decision).length) li.append(reasonChips(decision));

  const notice = state.notices.get(item.id);
  if (notice) li.append(el("p", "item-notice", notice));

  const actions = el("div", "actions");
  for (const action of OFFERED[item.status] || []) {
    const button = el("button", `action ${action === "approve" ? "approve" : "reject"}`);
    button.type = "button";
    button.dataset.action = action;
    button.append(document.createTextNode(t(action)));
    const kbd = el("kbd", "hint", ACTION_KEYS[action]);
    kbd.setAttribute("aria-hidden", "true");
    button.append(kbd);
    button.addEventListener("click", (event) => {
      event.stopPropagation();
      select(item.id);
      decideOne(item.id, action);
    });
    actions.append(button);
  }
  if (item.status !== state.queue) {
    actions.append(el("span", "status-badge", statusName(item.status)));
  }
  li.append(actions);

  li.addEventListener("click", (event) => {
    if (event.target.closest("button, input, a")) return;
    select(item.id, { focus: true });
    if (PHONE.matches) openDetailView();
  });
  return li;
}

// ---------------------------------------------------------------------------
// The selected comment, and the list after comments leave it
// ---------------------------------------------------------------------------
export function markSelected() {
  for (const li of $("queue-list").children) {
    const selected = li.dataset.id === state.selectedId;
    li.classList.toggle("is-selected", selected);
    li.classList.toggle("is-checked", state.checked.has(li.dataset.id));
    if (selected) li.setAttribute("aria-current", "true");
    else li.removeAttribute("aria-current");
    li.tabIndex = selected ? 0 : -1;
  }
}

function select(id, { focus = false } = {}) {
  const changed = id !== state.selectedId;
  state.selectedId = id;
  markSelected();
  const li = id ? itemNode(id) : null;
  if (li) {
    li.scrollIntoView({ block: "nearest" });
    if (focus) li.focus({ preventScroll: true });
  } else if (focus) {
    $("queue-list").focus();
  }
  if (!id) clearDetail();
  else if (changed || $("detail-body").hidden) loadDetail(id);
}

export function move(step) {
  if (!state.items.length) return;
  const index = state.items.findIndex((i) => i.id === state.selectedId);
  const next = Math.min(state.items.length - 1, Math.max(0, index + step));
  select(state.items[index < 0 ? 0 : next].id, { focus: true });
}

// After an item leaves the list: the one that took its place, or the one before.
export function removeItems(ids) {
  const gone = new Set(ids);
  const index = state.items.findIndex((i) => i.id === state.selectedId);
  const hadFocus =
    $("queue-list").contains(document.activeElement) || document.activeElement === document.body;
  const remaining = state.items.filter((i) => !gone.has(i.id));
  let nextId = state.selectedId;
  if (gone.has(state.selectedId)) {
    const after = state.items.slice(index + 1).find((i) => !gone.has(i.id));
    const before = state.items
      .slice(0, Math.max(index, 0))
      .reverse()
      .find((i) => !gone.has(i.id));
    nextId = (after || before || {}).id ?? null;
  }
  state.items = remaining;
  for (const id of gone) {
    state.checked.delete(id);
    state.notices.delete(id);
    itemNode(id)?.remove();
  }
  $("queue-empty").hidden = state.items.length > 0;
  renderBulkBar();
  select(nextId, { focus: hadFocus });
  if (!state.items.length && state.nextCursor) loadQueue();
}

export function replaceItem(item) {
  const index = state.items.findIndex((i) => i.id === item.id);
  if (index < 0) return;
  state.items[index] = item;
  itemNode(item.id)?.replaceWith(renderItem(item));
  markSelected();
}

// ---------------------------------------------------------------------------
// Why: the held queue by reason family and by the site model's rank
// ---------------------------------------------------------------------------
const FAMILIES = ["language", "words", "spam", "toxicity", "site_model", "check_failed"];
const RANKS = ["likely_fine", "suspect"];

export async function loadSummary() {
  if (state.queue !== "held") {
    state.summary = null;
    renderWhy();
    return;
  }
  const params = {
    state: state.queue,
    article_id: state.filters.article_id,
    language: state.filters.language,
  };
  try {
    state.summary = await api("GET", `/v1/moderation/queue/summary?${queryString(params)}`);
  } catch (error) {
    if (error.status === 401 || error.status === 403) failed(error);
    return;
  }
  renderWhy();
}

export function renderWhy() {
  const summary = state.summary || {};
  fillChoices($("filter-family"), "family", FAMILIES, summary.families, state.filters.family);
  fillChoices($("filter-rank"), "rank", RANKS, summary.ranks, state.filters.rank);
  const shown = likelyFineShown();
  const button = $("approve-likely-fine");
  button.hidden = !shown.length || state.queue !== "held" || state.view !== "queue";
  button.textContent = t("approve_likely_fine", { count: formatCount(shown.length) });
}

// "Its language alone (120)": each choice with how many held comments it has.
function fillChoices(select, kind, values, counts, current) {
  const any = el("option", null, t(`${kind}_any`));
  any.value = "";
  const options = values.map((value) => {
    const count = counts && isNumber(counts[value]) ? ` (${formatCount(counts[value])})` : "";
    const option = el("option", null, t(`${kind}_${value}`) + count);
    option.value = value;
    return option;
  });
  select.replaceChildren(any, ...options);
  select.value = current;
}

export function likelyFineShown() {
  return state.items.filter(
    (i) => i.status === "held" && i.decision && i.decision.rank === "likely_fine",
  );
}

// ---------------------------------------------------------------------------
// The view shown (the queue, the fairness report or a policy trial), and the queue
// ---------------------------------------------------------------------------
export function showView(view) {
  state.view = view;
  const queue = view === "queue";
  $("report").hidden = view !== "report";
  $("policy").hidden = view !== "policy";
  $("panes").hidden = !queue;
  $("filters").hidden = !queue;
  $("oldest").hidden = !queue;
  renderBulkBar();
  renderWhy();
  $("report-tab").setAttribute("aria-pressed", String(view === "report"));
  $("policy-tab").setAttribute("aria-pressed", String(view === "policy"));
  for (const button of document.querySelectorAll(".state")) {
    button.setAttribute("aria-pressed", String(queue && button.dataset.state === state.queue));
  }
}

export function switchQueue(queue) {
  if (state.view !== "queue") showView("queue");
  if (queue === state.queue) return;
  state.queue = queue;
  state.selectedId = null;
  state.items = [];
  state.nextCursor = null;
  renderQueue();
  clearDetail();
  loadQueue();
}

// Of the held comments on a page, those the site model ranks "likely fine" first
// (oldest first within each rank): the ones a moderator can clear fastest.
function likelyFineFirst(items) {
  const fine = (item) => item.status === "held" && item.decision?.rank === "likely_fine";
  return [...items.filter(fine), ...items.filter((item) => !fine(item))];
}
