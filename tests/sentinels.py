"""A private Redis primary, its replicas and three Sentinels, for the failover tests.

All are `redis-server` processes (Sentinel is `redis-server --sentinel`) on free
ports of 127.0.0.1, in the test's temporary directory; nothing else to install.
The Sentinels notice a dead primary after DOWN_AFTER_MS and promote the replica.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import redis

from moderator.local.redis_server import PrivateRedis, free_port
from moderator.settings import Sentinels
from tests.helpers import wait_until

MASTER = "moderator"
DOWN_AFTER_MS = 1000


class SentinelSet:
    def __init__(self, directory: Path, *, replicas: int = 1) -> None:
        self.directory = directory
        self.primary = PrivateRedis(self._dir("primary"))
        self.replica_count = replicas
        self.replicas: list[PrivateRedis] = []
        self._sentinels: list[tuple[int, subprocess.Popen[bytes]]] = []

    def _dir(self, name: str) -> Path:
        path = self.directory / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def sentinels(self) -> Sentinels:
        return Sentinels(MASTER, tuple(("127.0.0.1", port) for port, _ in self._sentinels))

    def start(self) -> None:
        self.primary.start()
        for n in range(self.replica_count):
            replica = PrivateRedis(
                self._dir(f"replica-{n}"),
                extra_args=("--replicaof", "127.0.0.1", str(self.primary.port)),
            )
            self.replicas.append(replica)
            replica.start()
        ports = [replica.port for replica in self.replicas]
        in_sync = lambda: all(_role(port) == ("slave", "up") for port in ports)  # noqa: E731
        wait_until(in_sync, 20, "the replicas in sync")
        for n in range(3):
            self._start_sentinel(n)
        wait_until(self._sentinels_agree, 30, "the Sentinels to know each other and the replica")

    def _start_sentinel(self, n: int) -> None:
        port, directory = free_port(), self._dir(f"sentinel-{n}")
        config = directory / "sentinel.conf"  # Sentinel rewrites it: its own, writable
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {directory}\n"
            f"logfile {directory / 'sentinel.log'}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {self.primary.port} 2\n"
            f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER} 10000\n"
            f"sentinel parallel-syncs {MASTER} 1\n"
        )
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (scripts/setup.sh installs it)"
        process = subprocess.Popen(
            [binary, str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._sentinels.append((port, process))
        wait_until(lambda: _ping(port), 10, f"sentinel {n}")

    def _sentinels_agree(self) -> bool:
        for port, _ in self._sentinels:
            with redis.Redis(port=port, decode_responses=True, socket_timeout=1) as client:
                state = client.sentinel_master(MASTER)
            if int(state["num-other-sentinels"]) < 2 or int(state["num-slaves"]) < len(
                self.replicas
            ):
                return False
        return True

    def master_port(self) -> int | None:
        """The primary's port as the Sentinels see it now."""
        port, _ = self._sentinels[0]
        with redis.Redis(port=port, decode_responses=True, socket_timeout=1) as client:
            address = client.sentinel_get_master_addr_by_name(MASTER)
        return int(address[1]) if address else None

    def close(self) -> None:
        for _, process in self._sentinels:
            process.terminate()
        for _, process in self._sentinels:
            process.wait(timeout=10)
        for server in (self.primary, *self.replicas):
            server.stop()


def _role(port: int) -> tuple[str, str]:
    try:
        with redis.Redis(port=port, decode_responses=True, socket_timeout=1) as client:
            info = client.info("replication")
    except redis.RedisError:
        return "", ""
    return str(info["role"]), str(info.get("master_link_status", ""))


def _ping(port: int) -> bool:
    try:
        with redis.Redis(port=port, socket_timeout=0.5) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False
