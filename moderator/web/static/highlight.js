// A reader's text in the page: the matched words of the word lists wrapped in
// <mark>, links, e-mail addresses and grouped numbers isolated left to right.

import { el } from "./format.js";
import { reasonsOf } from "./reasons.js";

const ARABIC_FOLD = { "ى": "ي", "ـ": "" };
const LEET = { a: "a4@", e: "e3", i: "i1!", o: "o0", s: "s5$", t: "t7", l: "l1" };
const SEPARATORS = "[._*\\-]?";
const ARABIC_PREFIX = "(?:[وفبكل]?ال|[وفبكل])?";

function foldChar(ch) {
  const plain = ch.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
  return ARABIC_FOLD[plain] ?? plain;
}

// The text folded (case, accents, Arabic marks), with each folded code unit's
// start and end in the original text.
function foldWithOffsets(text) {
  let folded = "";
  const starts = [];
  const ends = [];
  let offset = 0;
  for (const ch of text) {
    const f = foldChar(ch);
    for (let i = 0; i < f.length; i += 1) {
      starts.push(offset);
      ends.push(offset + ch.length);
    }
    folded += f;
    offset += ch.length;
  }
  return { folded, starts, ends };
}

function escapeForClass(chars) {
  return chars.replace(/[\\\]\[^-]/g, "\\$&");
}

function termRegExp(term) {
  const words = Array.from(String(term)).map(foldChar).join("").split(/\s+/).filter(Boolean);
  if (!words.length) return null;
  const pattern = words
    .map((word) =>
      Array.from(word)
        .map((c) => `[${escapeForClass(LEET[c] || c)}]+`)
        .join(SEPARATORS),
    )
    .join("[\\s._*\\-]+");
  const prefix = /\p{Script=Arabic}/u.test(words[0]) ? ARABIC_PREFIX : "";
  try {
    return new RegExp(`(?<![\\p{L}\\p{N}])${prefix}(?:${pattern})(?![\\p{L}\\p{N}])`, "gu");
  } catch {
    return null;
  }
}

function matchRanges(text, terms) {
  if (!terms.length || !text) return [];
  const { folded, starts, ends } = foldWithOffsets(text);
  const ranges = [];
  for (const term of terms) {
    const re = termRegExp(term);
    if (!re) continue;
    for (const m of folded.matchAll(re)) {
      if (!m[0].length) continue;
      ranges.push([starts[m.index], ends[m.index + m[0].length - 1]]);
    }
  }
  ranges.sort((x, y) => x[0] - y[0]);
  const merged = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else merged.push([...range]);
  }
  return merged;
}

// `text` as text nodes, with the words matching `terms` wrapped in <mark>.
export function highlighted(text, terms) {
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const [start, end] of matchRanges(text, terms)) {
    if (start > at) fragment.append(isolated(text.slice(at, start)));
    fragment.append(el("mark", "match", text.slice(start, end)));
    at = end;
  }
  if (at < text.length) fragment.append(isolated(text.slice(at)));
  return fragment;
}

// Links, e-mail addresses and numbers written in groups ("06 12 34 56 78",
// "+212 612-345678") read left to right whatever surrounds them: in an Arabic
// sentence the bidi algorithm would otherwise draw the groups in reverse order.
const LEFT_TO_RIGHT = /(?:https?:\/\/|www\.)[^\s]+|[^\s@]+@[^\s@]+\.[a-z]{2,}|\+?\d(?:[\d .\-\/]*\d)?/giu;

function isolated(text) {
  const fragment = document.createDocumentFragment();
  let at = 0;
  for (const found of text.matchAll(LEFT_TO_RIGHT)) {
    if (!/[\s.\-\/@:]/.test(found[0]) && !/^\+/.test(found[0])) continue; // one plain number
    if (found.index > at) fragment.append(document.createTextNode(text.slice(at, found.index)));
    const run = el("bdi", "ltr-run", found[0]);
    run.dir = "ltr";
    fragment.append(run);
    at = found.index + found[0].length;
  }
  if (at < text.length) fragment.append(document.createTextNode(text.slice(at)));
  return fragment;
}

export function matchedTerms(decision) {
  return reasonsOf(decision)
    .filter((r) => r.code && r.code.startsWith("wordlist.") && r.match)
    .map((r) => String(r.match));
}
