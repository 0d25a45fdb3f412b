// The moderation API: one call with the token in the Authorization header,
// ApiError for anything but 2xx, and what a failed call says to the moderator.

import { announce } from "./format.js";
import { signOut } from "./session.js";
import { state } from "./state.js";
import { t } from "./strings.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(`HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

// One call with the token in the Authorization header; an ApiError unless 2xx.
export async function request(method, path, { body, accept } = {}) {
  const headers = {
    Accept: accept || "application/json, application/problem+json",
    "Accept-Language": state.lang,
    Authorization: `Bearer ${state.token}`,
  };
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function api(method, path, body) {
  const response = await request(method, path, { body });
  try {
    return await response.json();
  } catch {
    return null;
  }
}

export function problemMessage(error) {
  if (error.status === 0) return t("network_error");
  const problem = error.problem || {};
  if (Array.isArray(problem.errors) && problem.errors.length) {
    return problem.errors.map((e) => e.message || e.code).join(" ");
  }
  return problem.title || t("error_generic", { status: error.status });
}

// Any failed call: a refused token ends the session, the rest is announced.
export function failed(error) {
  if (error.status === 401 || error.status === 403) {
    signOut(t("session_ended"));
    return;
  }
  announce(problemMessage(error), "error");
}

export function queryString(params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") query.set(name, value);
  }
  return query.toString();
}
