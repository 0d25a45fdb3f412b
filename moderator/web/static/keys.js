// Keyboard shortcuts and their help dialog.

import { clearChecked, decideMany, decideOne, setChecked } from "./decisions.js";
import { el } from "./format.js";
import { move } from "./queue.js";
import { $, state } from "./state.js";
import { t } from "./strings.js";

const KEYMAP = [
  ["j / ↓", "key_next"],
  ["k / ↑", "key_previous"],
  ["a", "key_approve"],
  ["r", "key_reject"],
  ["t", "key_takedown"],
  ["x", "key_toggle"],
  ["Shift + A", "key_bulk_approve"],
  ["Shift + R", "key_bulk_reject"],
  ["Shift + T", "key_bulk_takedown"],
  ["Esc", "key_clear"],
  ["?", "key_help"],
];

export function renderHelp() {
  const list = $("help-keys");
  list.replaceChildren();
  for (const [keys, label] of KEYMAP) {
    const dt = el("dt");
    dt.append(el("kbd", null, keys));
    list.append(dt, el("dd", null, t(label)));
  }
}

export function toggleHelp() {
  const dialog = $("help-dialog");
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

function isTyping(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !["checkbox", "radio", "button"].includes(target.type);
}

// The key as the shortcuts name it; on a non-Latin layout (Arabic…) the key at
// the same place as the Latin letter.
function shortcutKey(event) {
  if (/^[\x20-\x7e]$/.test(event.key)) return event.key.toLowerCase();
  if (/^Key[A-Z]$/.test(event.code)) return event.code.slice(3).toLowerCase();
  return event.key;
}

export function onKeyDown(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (!state.token || $("workspace").hidden) return;
  if (isTyping(event.target)) {
    if (event.key === "Escape") event.target.blur();
    return;
  }
  if ($("help-dialog").open || state.view !== "queue") {
    // In the report no comment is on screen: only the help opens (and closes).
    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
    }
    return;
  }
  const inList = $("queue-list").contains(event.target);
  const key = shortcutKey(event);
  const handlers = {
    j: () => move(1),
    k: () => move(-1),
    ArrowDown: inList ? () => move(1) : null,
    ArrowUp: inList ? () => move(-1) : null,
    x: () => state.selectedId && setChecked(state.selectedId, !state.checked.has(state.selectedId)),
    a: () => (event.shiftKey ? decideMany("approve") : decideOne(state.selectedId, "approve")),
    r: () => (event.shiftKey ? decideMany("reject") : decideOne(state.selectedId, "reject")),
    t: () => (event.shiftKey ? decideMany("takedown") : decideOne(state.selectedId, "takedown")),
    "?": toggleHelp,
    Escape: () => state.checked.size && clearChecked(),
  };
  const handler = handlers[key];
  if (!handler) return;
  event.preventDefault();
  handler();
}
