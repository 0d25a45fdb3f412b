// The page's shared state (one object, mutated in place by every module) and `$`.

export const state = {
  lang: "en",
  token: null,
  me: null,
  windows: { spam_s: 3600, burst_s: 600 }, // the spam signals' windows, from /me
  queue: "held",
  filters: { article_id: "", language: "", family: "", rank: "" },
  summary: null, // the held queue's counts by reason family and rank
  items: [],
  nextCursor: null,
  selectedId: null,
  checked: new Set(),
  busy: new Set(),
  notices: new Map(),
  detailSeq: 0,
  queueSeq: 0,
  statusTimer: null,
  view: "queue", // or "report"
  report: null, // the last fairness report shown
  policy: null, // the thresholds and rules in force, for the policy view
  trialId: null, // the policy tried last
  reportWindow: null, // its { since, until }, as asked (ISO 8601)
  reportSeq: 0,
};

export const $ = (id) => document.getElementById(id);
