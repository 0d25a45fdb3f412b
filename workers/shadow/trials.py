"""Policy trials asked from the moderators' page (`moderator.web.policy_trials`).

The service cannot replay decisions (the policy is the workers' code), so it queues
each request on `Keys.policy_trials`; every worker looks there before each batch
(one request at a time, shared through the `trials` consumer group). `evaluate`
replays the last N automatic decisions under the candidate (`evaluation.evaluate`)
and stores the report in the trial; `promote` makes the tried candidate the policy
in force (`overrides.promote`, audited in the moderator's name). A request that
fails marks its trial `failed` with the error, and the worker goes on.
"""

from __future__ import annotations

import json
from typing import cast

import redis.asyncio as aioredis
import structlog
from redis.exceptions import ResponseError

from moderator.domain import utc_now
from moderator.keys import TRIALS_GROUP, Keys
from moderator.records import TrialRequest
from moderator.settings import Settings
from workers.shadow.candidate import Candidate
from workers.shadow.evaluation import evaluate
from workers.shadow.overrides import promote

log = structlog.get_logger()


class TrialRunner:
    def __init__(self, redis: aioredis.Redis, keys: Keys, settings: Settings, name: str) -> None:
        self._redis = redis
        self._keys = keys
        self._settings = settings
        self._name = name

    async def setup(self) -> None:
        try:
            await self._redis.xgroup_create(
                self._keys.policy_trials, TRIALS_GROUP, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def step(self) -> int:
        """Run the next waiting request, if any; how many ran (0 or 1)."""
        response = await self._redis.xreadgroup(
            TRIALS_GROUP, self._name, {self._keys.policy_trials: ">"}, count=1
        )
        streams = cast(list[tuple[str, list[tuple[str, dict[str, str]]]]], response or [])
        handled = 0
        for _, entries in streams:
            for entry_id, fields in entries:
                await self.run(TrialRequest.from_fields(fields))
                await self._redis.xack(self._keys.policy_trials, TRIALS_GROUP, entry_id)
                handled += 1
        return handled

    async def run(self, request: TrialRequest) -> None:
        key = self._keys.policy_trial(request.trial_id)
        trial = cast(dict[str, str], await self._redis.hgetall(key))
        if not trial:
            return  # expired
        try:
            candidate = Candidate.from_json(trial["candidate"])
            if request.action == "evaluate":
                report = await evaluate(
                    self._redis, self._keys, self._settings, candidate, last=int(trial["last"])
                )
                done = {"status": "done", "report": json.dumps(report.to_dict())}
            elif request.action == "promote":
                by = f"moderator:{trial.get('promoted_by') or trial.get('by', '')}"
                await promote(self._redis, self._keys, candidate, by=by)
                done = {"status": "promoted", "promoted_at": utc_now()}
            else:
                raise ValueError(f"unknown action {request.action!r}")
        except Exception as exc:  # the per-request boundary: the worker goes on
            log.warning("policy_trial_failed", trial=request.trial_id, exc_info=True)
            done = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        async with self._redis.pipeline(transaction=False) as pipe:
            for name, value in done.items():
                pipe.hset(key, name, value)
            await pipe.execute()
        log.info(
            "policy_trial", trial=request.trial_id, action=request.action, status=done["status"]
        )
