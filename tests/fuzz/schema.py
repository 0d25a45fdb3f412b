"""Schemathesis against a real `python -m moderator serve` process: the process, and the
checks every operation of /v1/openapi.json is held to."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import requests
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from moderator.local.redis_server import free_port
from moderator.settings import Settings
from tests.fuzz.harness import (
    AUTH,
    FUZZ,
    KNOWN_UNDOCUMENTED,
    PROBLEM,
    SCHEMA_EXAMPLES,
    TOKEN,
    Sent,
    known_5xx,
    redis_of,
)
from tests.helpers import REPO, env_for, log_tail, wait_until_healthy


@dataclass(frozen=True)
class Served:
    url: str
    log: Path

    def log_tail(self) -> str:
        return log_tail(self.log)


@contextmanager
def serve_process(settings: Settings, log_path: Path) -> Iterator[Served]:
    """`python -m moderator serve` on a free port: production defaults (rate limits on, no
    site keys) but for its Redis, key prefix, token and log."""
    port = free_port()
    env = env_for(
        settings,
        MODERATOR_HOST="127.0.0.1",
        MODERATOR_PORT=str(port),
        MODERATOR_TOKENS=f"amina:{TOKEN}",
        MODERATOR_HASH_KEY="fuzz-hash-key",
        MODERATOR_LOG_FORMAT="json",
        MODERATOR_LOG_LEVEL="warning",
    )
    served = Served(f"http://127.0.0.1:{port}", log_path)
    with served.log.open("wb") as log, redis_of(settings):
        process = subprocess.Popen(
            [sys.executable, "-m", "moderator", "serve"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_healthy(served.url, process, timeout_s=30, log=served.log)
            yield served
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _sent(response: schemathesis.Response) -> Sent:
    prepared = response.request
    body = prepared.body or b""
    body = body.encode() if isinstance(body, str) else body
    return Sent(str(prepared.method), str(prepared.path_url), dict(prepared.headers), body)


def no_server_error(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Schemathesis's `not_a_server_error`, but for the known 5xx (see `known_5xx`)."""
    if response.status_code < 500 or known_5xx(_sent(response)) is None:
        not_a_server_error(ctx, response, case)


def problem_json(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx is problem+json, with a `type`, a `title` and its own `status`."""
    if not 400 <= response.status_code < 500:
        return
    media_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    assert media_type == PROBLEM, f"a {response.status_code} as {media_type!r}"
    problem = json.loads(response.content)
    assert isinstance(problem, dict), problem
    assert isinstance(problem.get("type"), str) and isinstance(problem.get("title"), str), problem
    assert problem.get("status") == response.status_code, problem


def declared_status(ctx: Any, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """`status_code_conformance`, but for KNOWN_UNDOCUMENTED and the known 5xx."""
    known = KNOWN_UNDOCUMENTED.get(case.operation.label, set())
    if response.status_code >= 500 and known_5xx(_sent(response)) is not None:
        return
    if str(response.status_code) not in known:
        status_code_conformance(ctx, response, case)


def documented_media_type(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    """`content_type_conformance`, but for KNOWN_UNDOCUMENTED."""
    media_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    if media_type not in KNOWN_UNDOCUMENTED.get(case.operation.label, set()):
        content_type_conformance(ctx, response, case)


# Conformance to the spec, and auth enforced where declared. Not positive_data_acceptance
# nor negative_data_rejection: the spec is looser than validation on purpose (any string
# for an e-mail, a bulk item's id) and unknown fields and parameters are ignored.
SCHEMA_CHECKS = [
    no_server_error,
    problem_json,
    declared_status,
    documented_media_type,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]


def fuzz_operation(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    served: Served,
    session: requests.Session,
) -> str | None:
    """Up to SCHEMA_EXAMPLES cases of one operation; the failure found, if any."""

    @hypothesis.settings(
        FUZZ,
        max_examples=SCHEMA_EXAMPLES,
        # schemathesis filters its negative cases: some operations barely have any
        suppress_health_check=[*FUZZ.suppress_health_check, HealthCheck.filter_too_much],
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=served.url,
            session=session,
            headers=dict(AUTH),
            checks=SCHEMA_CHECKS,
            allow_redirects=False,
        )

    try:
        call()
    except hypothesis.errors.Unsatisfiable:
        if mode is GenerationMode.POSITIVE:
            raise
        return None  # nothing of this operation can be made invalid (no parameters, no body)
    except (FailureGroup, AssertionError) as failure:
        return f"{operation.label} ({mode.value}): {failure}"
    return None
