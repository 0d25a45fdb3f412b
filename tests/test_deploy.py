"""deploy/: every manifest parses and agrees with the code it runs: the app's routes,
the settings it reads, the stream and group the workers use, the shutdown timeout,
and the durability Redis needs."""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
import yaml

from moderator.errors import SettingsError
from moderator.keys import Keys
from moderator.settings import PREFIX, Settings
from moderator.web.app import create_app

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "kubernetes"
SYSTEMD = DEPLOY / "systemd"


# --- reading the files -------------------------------------------------------------------


def manifests() -> list[dict[str, Any]]:
    """Every Kubernetes object under deploy/kubernetes/, jobs/ included."""
    objects = []
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        with path.open(encoding="utf-8") as f:
            objects += [doc for doc in yaml.safe_load_all(f) if doc is not None]
    return objects


def objects_of(kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in manifests() if o["kind"] == kind}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def compose(name: str = "compose.yaml") -> dict[str, Any]:
    body: dict[str, Any] = yaml.safe_load((DEPLOY / name).read_text(encoding="utf-8"))
    return body


def env_file(path: Path) -> dict[str, str]:
    """NAME=value lines (a compose .env file or a systemd EnvironmentFile)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path}: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


def unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit: section -> [(key, value)], keys may repeat."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        key, sep, value = line.partition("=")
        assert sep and current is not None, f"{path}: unexpected line {line!r}"
        current.append((key, value))
    return sections


def unit_value(sections: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    values = [v for k, v in sections[section] if k == key]
    assert len(values) == 1, f"{key} in [{section}]: {values}"
    return values[0]


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        instruction, _, arguments = line.partition(" ")
        instructions.append((instruction.upper(), arguments.strip()))
    assert not pending
    return instructions


def docker_env() -> dict[str, str]:
    values = {}
    for instruction, arguments in dockerfile():
        if instruction == "ENV":
            for item in shlex.split(arguments):
                name, _, value = item.partition("=")
                values[name] = value
    return values


def configmap() -> dict[str, str]:
    data: dict[str, str] = objects_of("ConfigMap")["moderator-config"]["data"]
    return data


def secret() -> dict[str, str]:
    data: dict[str, str] = objects_of("Secret")["moderator-secrets"]["stringData"]
    return data


def duration_s(value: str) -> float:
    """A compose duration ("30s", "1m30s") or a systemd time span ("30", "30s", "1min")."""
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value)
    assert parts, value
    return sum(float(number) * units[unit or "s"] for number, unit in parts)


# --- which MODERATOR_* names the settings read --------------------------------------------

_PROBE = "§not-a-valid-value§"


def is_setting(name: str) -> bool:
    """Whether Settings.from_env reads `name`: set to a value no setting accepts as is,
    a known variable either is refused with its name or changes the settings; an
    unknown one is silently ignored."""
    try:
        probed = Settings.from_env({name: _PROBE})
    except SettingsError as exc:
        return name in str(exc)
    return probed != Settings.from_env({})


def test_the_probe_tells_known_names_from_unknown_ones() -> None:
    for known in (
        "MODERATOR_REDIS_URL",
        "MODERATOR_HOST",
        "MODERATOR_HASH_KEY",
        "MODERATOR_SITE_KEYS",
        "MODERATOR_THRESHOLD_INSULT",
        "MODERATOR_MAX_BODY_CHARS",
        "MODERATOR_WEBHOOK_SECRET",
    ):
        assert is_setting(known), known
    for unknown in ("MODERATOR_REDIS_URI", "MODERATOR_THRESHOLD_RUDE", "MODERATOR_SERVICE_HOST"):
        assert not is_setting(unknown), unknown


def moderator_names() -> dict[str, set[str]]:
    """Every MODERATOR_* name set anywhere in deploy/, by where it is set."""
    where: dict[str, set[str]] = {}

    def add(source: str, names: Any) -> None:
        for name in names:
            if str(name).startswith(PREFIX):
                where.setdefault(str(name), set()).add(source)

    add("configmap.yaml", configmap())
    add("secret.example.yaml", secret())
    for workload in [*objects_of("Deployment").values(), *objects_of("Job").values()]:
        for container in containers(workload):
            add(workload["metadata"]["name"], (e["name"] for e in container.get("env", [])))
    for name in ("compose.yaml", "compose.sentinel.yaml"):
        for service_name, service in compose(name)["services"].items():
            environment = service.get("environment", {})
            assert isinstance(environment, dict), "compose environment: use the mapping form"
            add(f"{name} {service_name}", environment)
    add(".env.example", env_file(DEPLOY / ".env.example"))
    add("moderator.env.example", env_file(SYSTEMD / "moderator.env.example"))
    for path in SYSTEMD.glob("*.service"):
        assignments = [v for k, v in unit(path)["Service"] if k == "Environment"]
        add(path.name, (shlex.split(v)[0].partition("=")[0] for v in assignments))
    add("Dockerfile", docker_env())
    return where


def test_every_moderator_variable_is_one_the_settings_read() -> None:
    where = moderator_names()
    assert len(where) > 20  # the files were read
    unknown = {name: sorted(files) for name, files in where.items() if not is_setting(name)}
    assert not unknown, f"set in deploy/ but never read by Settings.from_env: {unknown}"


@pytest.mark.parametrize(
    "source",
    ["kubernetes", ".env.example", "moderator.env.example", "Dockerfile"],
)
def test_the_example_values_are_valid_settings(source: str) -> None:
    environ = {
        "kubernetes": lambda: {**configmap(), **secret()},
        ".env.example": lambda: env_file(DEPLOY / ".env.example"),
        "moderator.env.example": lambda: env_file(SYSTEMD / "moderator.env.example"),
        "Dockerfile": docker_env,
    }[source]()
    settings = Settings.from_env(environ)
    if source != "Dockerfile":
        assert settings.moderator_tokens, "an example gives the moderators' tokens"
        assert settings.hash_key


# --- the images ---------------------------------------------------------------------------


def stages() -> dict[str, list[tuple[str, str]]]:
    """The Dockerfile's stages by name, each from its FROM on."""
    named: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for instruction, arguments in dockerfile():
        if instruction == "FROM":
            _base, as_, name = arguments.split()
            assert as_.upper() == "AS" and name not in named, arguments
            current = named[name] = []
        if current is not None:
            current.append((instruction, arguments))
    return named


def target(name: str) -> list[tuple[str, str]]:
    """What `docker build --target NAME` runs for the image itself: the stage and the
    stages it is built FROM, base first."""
    named = stages()
    instructions: list[tuple[str, str]] = []
    while name in named:
        instructions = named[name] + instructions
        name = named[name][0][1].split()[0]
    return instructions


def builds(name: str) -> list[str]:
    """Every RUN behind a target: its own stages' and those of the stages it copies from."""
    runs = []
    for instruction, arguments in target(name):
        if instruction == "RUN":
            runs.append(arguments)
        source = re.match(r"--from=(\S+)", arguments)
        if instruction == "COPY" and source:
            runs += builds(source.group(1))
    return runs


def docker_args() -> dict[str, str]:
    return {
        name: value
        for instruction, arguments in dockerfile()
        if instruction == "ARG"
        for name, _, value in [arguments.partition("=")]
    }


def test_the_dockerfile_has_a_service_and_a_worker_target_the_service_last() -> None:
    named = stages()
    assert {"service", "worker"} <= set(named)
    # Without --target, docker builds the last stage: the one without torch.
    assert list(named)[-1] == "service"
    for name in ("service", "worker"):
        assert any(i == "COPY" and "--from=" in a for i, a in named[name]), name


def test_the_worker_image_installs_cpu_torch_before_the_project_and_its_extra() -> None:
    args = docker_args()
    setup = (REPO / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert f"TORCH_VERSION={args['TORCH_VERSION']}\n" in setup  # one version everywhere
    assert args["TORCH_VERSION"] == "2.13.0"
    assert '-e ".[dev,worker]"' in setup
    runs = [run.replace("${TORCH_VERSION}", args["TORCH_VERSION"]) for run in builds("worker")]
    torch_first = next(i for i, run in enumerate(runs) if '"torch==2.13.0"' in run)
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs[torch_first]
    project = next(i for i, run in enumerate(runs) if 'pip install ".[worker]"' in run)
    assert torch_first < project
    assert '"torch==2.13.0"' in runs[project]  # the pin holds while the project installs
    assert "grep -i '^nvidia-'" in runs[project]


def test_the_service_image_installs_the_project_without_the_worker_extra() -> None:
    runs = builds("service")
    assert any(re.search(r"pip install \.(\s|$)", run) for run in runs)
    for run in runs:
        assert "[worker]" not in run and "[dev" not in run, run
        assert not re.search(r"pip install [^&]*(torch|detoxify|onnx)", run), run
    # ... and the build fails should the model stack come in all the same.
    assert any("! pip freeze | grep -iE '^(torch|detoxify|onnx" in run for run in runs)


def test_the_extras_split_the_model_stack_from_the_service() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    model_stack = re.compile(r"^(torch|detoxify|onnx|onnxruntime|transformers)\b", re.I)
    assert not [d for d in project["dependencies"] if model_stack.match(d)]
    extras = project["optional-dependencies"]
    assert {re.split(r"[<>=\[ ]", d)[0] for d in extras["worker"]} == {
        "detoxify",
        "onnxruntime",
        "onnx",
    }
    assert "moderator[worker]" in extras["dev"]  # the tests load the model


@pytest.mark.parametrize("name", ["service", "worker"])
def test_both_images_are_slim_and_run_unprivileged(name: str) -> None:
    instructions = target(name)
    assert "slim" in docker_args()["PYTHON_IMAGE"]
    # Built on the slim Python image, the builders' stages left behind.
    assert instructions[0][0] == "FROM" and instructions[0][1].startswith("${PYTHON_IMAGE} ")
    users = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert users, "the runtime stage sets a USER"
    assert users[-1].split(":")[0] not in ("root", "0")
    values = dict(instructions)
    assert values["ENTRYPOINT"] == '["moderator"]'
    assert values["CMD"] == ('["serve"]' if name == "service" else '["worker"]')
    env = docker_env()
    assert env["MODERATOR_HOST"] == "0.0.0.0"
    assert env["MODERATOR_MODEL_DIR"] == "/models"


def test_the_service_image_serves_and_the_worker_image_checks_its_heartbeat() -> None:
    service, worker = dict(target("service")), dict(target("worker"))
    assert service["EXPOSE"] == "8080" and "EXPOSE" not in worker
    assert "/healthz" in service["HEALTHCHECK"] and "curl" not in service["HEALTHCHECK"]
    assert '["moderator", "worker", "--check"]' in worker["HEALTHCHECK"]
    model_dir = [a for i, a in target("worker") if i == "ENV" and "MODERATOR_MODEL_DIR" in a]
    assert model_dir and not [
        a for i, a in target("service") if i == "ENV" and "MODERATOR_MODEL_DIR" in a
    ]


def test_the_console_script_is_the_entrypoint() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "moderator" in project["scripts"]


# --- Kubernetes ---------------------------------------------------------------------------


def test_every_manifest_parses_into_named_objects() -> None:
    objects = manifests()
    assert {o["kind"] for o in objects} >= {
        "Namespace",
        "ConfigMap",
        "Secret",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "ScaledObject",
        "HorizontalPodAutoscaler",
        "StatefulSet",
        "PersistentVolumeClaim",
        "Job",
    }
    for o in objects:
        assert o["apiVersion"] and o["metadata"]["name"], o
        if o["kind"] != "Namespace":
            assert o["metadata"]["namespace"] == "moderator", o["metadata"]


def test_kustomization_lists_existing_files_and_one_autoscaler() -> None:
    body = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    resources = body["resources"]
    for name in resources:
        assert (K8S / name).is_file(), name
    assert "secret.example.yaml" not in resources
    assert ("hpa.yaml" in resources) != ("keda-scaledobject.yaml" in resources)


def moderator_workloads() -> dict[str, dict[str, Any]]:
    workloads = {**objects_of("Deployment"), **objects_of("Job")}
    return {
        name: w
        for name, w in workloads.items()
        if any(
            c["image"].split("/")[-1].startswith(("moderator:", "moderator-worker:"))
            for c in containers(w)
        )
    }


def test_the_service_runs_the_service_image_and_the_rest_the_worker_image() -> None:
    """The service's image has no torch; the workers and the model Job need it."""
    workloads = moderator_workloads()
    assert {"moderator", "moderator-worker", "moderator-models-download"} <= set(workloads)
    images = {name: {c["image"] for c in containers(w)} for name, w in workloads.items()}
    [service] = images.pop("moderator")
    [worker] = images.pop("moderator-worker")
    assert service.rsplit("/", 1)[-1] == "moderator:0.1.0"
    assert worker == service.replace("/moderator:", "/moderator-worker:")
    assert all(found == {worker} for found in images.values()), images
    services = compose()["services"]
    for name, built in (("moderator", "service"), ("worker", "worker")):
        build = services[name]["build"]
        assert (build["context"], build["dockerfile"]) == ("..", "deploy/Dockerfile")
        assert build["target"] == built
    assert services["moderator"]["image"] == service.rsplit("/", 1)[-1]
    assert services["worker"]["image"] == worker.rsplit("/", 1)[-1]
    [redis_image] = {c["image"] for c in containers(objects_of("StatefulSet")["redis"])}
    assert services["redis"]["image"] == redis_image
    assert redis_image.startswith("redis:7")
    [redis_image] = {c["image"] for c in containers(objects_of("StatefulSet")["redis"])}
    assert services["redis"]["image"] == redis_image
    assert redis_image.startswith("redis:7")


def app_paths() -> set[str]:
    app = create_app(Settings())
    return {route.resource.canonical for route in app.router.routes() if route.resource}


def test_the_service_probes_real_routes() -> None:
    [container] = containers(objects_of("Deployment")["moderator"])
    liveness, readiness = container["livenessProbe"], container["readinessProbe"]
    assert liveness["httpGet"]["path"] == "/healthz"
    assert readiness["httpGet"]["path"] == "/readyz"
    assert {"/healthz", "/readyz"} <= app_paths()
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports[liveness["httpGet"]["port"]] == ports[readiness["httpGet"]["port"]]
    assert ports["http"] == int(configmap()["MODERATOR_PORT"])
    assert container["args"] == ["serve"]


def test_the_service_routes_port_80_to_the_pods() -> None:
    service = objects_of("Service")["moderator"]
    deployment = objects_of("Deployment")["moderator"]
    [port] = service["spec"]["ports"]
    assert port["port"] == 80
    [container] = containers(deployment)
    assert port["targetPort"] in {p["name"] for p in container["ports"]}
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_pods_run_as_non_root_with_a_read_only_root() -> None:
    workloads = {**moderator_workloads(), **objects_of("StatefulSet")}
    for name, workload in workloads.items():
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in containers(workload):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name


def test_no_service_links_into_the_settings() -> None:
    """A Service named `moderator` would give every pod MODERATOR_PORT=tcp://…"""
    assert "moderator" in objects_of("Service")
    for name, workload in moderator_workloads().items():
        assert pod_spec(workload)["enableServiceLinks"] is False, name


def test_workloads_read_the_settings_from_the_configmap_and_secret() -> None:
    for name in ("moderator", "moderator-worker"):
        [container] = containers(objects_of("Deployment")[name])
        sources = container["envFrom"]
        assert {"configMapRef": {"name": "moderator-config"}} in sources
        assert {"secretRef": {"name": "moderator-secrets"}} in sources


def test_workers_mount_the_model_directory_read_only() -> None:
    worker = objects_of("Deployment")["moderator-worker"]
    [container] = containers(worker)
    assert container["args"] == ["worker"]
    model_dir = configmap()["MODERATOR_MODEL_DIR"]
    assert model_dir == docker_env()["MODERATOR_MODEL_DIR"]
    [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == model_dir]
    assert mount["readOnly"] is True
    [volume] = [v for v in pod_spec(worker)["volumes"] if v["name"] == mount["name"]]
    assert volume["persistentVolumeClaim"]["readOnly"] is True
    assert volume["persistentVolumeClaim"]["claimName"] in objects_of("PersistentVolumeClaim")
    assert {"--check"} <= set(container["livenessProbe"]["exec"]["command"])
    assert container["livenessProbe"]["exec"]["command"][:2] == ["moderator", "worker"]
    memory = container["resources"]["limits"]["memory"]
    assert memory.endswith("Gi") and 2 <= int(memory[:-2]) <= 4


def test_grace_periods_exceed_the_shutdown_timeout() -> None:
    timeout = Settings.from_env(configmap()).shutdown_timeout_s
    for name in ("moderator", "moderator-worker"):
        deployment = objects_of("Deployment")[name]
        [container] = containers(deployment)
        pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("exec", {})
        sleep = float(pre_stop["command"][1]) if pre_stop.get("command", [""])[0] == "sleep" else 0
        assert pod_spec(deployment)["terminationGracePeriodSeconds"] > sleep + timeout, name


def test_disruption_budgets_cover_the_service_and_the_workers() -> None:
    budgets = objects_of("PodDisruptionBudget").values()
    for name in ("moderator", "moderator-worker"):
        labels = objects_of("Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        matching = [
            b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(matching) == 1, name


def test_keda_scales_the_workers_on_their_stream_and_group() -> None:
    [scaled] = objects_of("ScaledObject").values()
    assert scaled["spec"]["scaleTargetRef"]["name"] == "moderator-worker"
    keys = Keys(Settings.from_env(configmap()).key_prefix)
    assert keys == Keys("moderator")
    redis_url = urlsplit(configmap()["MODERATOR_REDIS_URL"])
    triggers = scaled["spec"]["triggers"]
    assert any("pendingEntriesCount" in t["metadata"] for t in triggers)
    for trigger in triggers:
        metadata = trigger["metadata"]
        assert trigger["type"] == "redis-streams"
        assert metadata["stream"] == keys.comments_stream == "moderator:stream:comments"
        assert metadata["consumerGroup"] == keys.workers_group == "workers"
        assert metadata["address"] == f"{redis_url.hostname}:{redis_url.port}"
        assert metadata["databaseIndex"] == redis_url.path.strip("/")
    # KEDA runs in its own namespace: the address must be a full service name.
    assert redis_url.hostname == "redis.moderator.svc.cluster.local"
    assert "redis" in objects_of("Service")


def test_the_hpa_fallback_targets_the_workers_on_cpu() -> None:
    [hpa] = objects_of("HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] == "moderator-worker"
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    [container] = containers(objects_of("Deployment")["moderator-worker"])
    assert container["resources"]["requests"]["cpu"]  # utilisation is relative to it


def test_the_redis_statefulset_keeps_its_append_only_file() -> None:
    statefulset = objects_of("StatefulSet")["redis"]
    [container] = containers(statefulset)
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    [claim] = statefulset["spec"]["volumeClaimTemplates"]
    assert mounts["/data"] == claim["metadata"]["name"]
    embedded = objects_of("ConfigMap")["redis-config"]["data"]["redis.conf"]
    assert embedded == (DEPLOY / "redis.conf").read_text(encoding="utf-8")
    assert container["command"] == ["redis-server", "/usr/local/etc/redis/redis.conf"]
    assert mounts["/usr/local/etc/redis"] == "config"


# --- compose ------------------------------------------------------------------------------


def test_compose_runs_redis_with_the_config_the_service_and_two_workers() -> None:
    services = compose()["services"]
    assert set(services) == {"redis", "moderator", "worker"}
    assert "./redis.conf:/usr/local/etc/redis/redis.conf:ro" in services["redis"]["volumes"]
    assert services["redis"]["command"][-1] == "/usr/local/etc/redis/redis.conf"
    assert services["moderator"]["command"] == ["serve"]
    assert services["moderator"]["ports"] == ["127.0.0.1:8080:8080"]
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for service in services.values():
        assert "healthcheck" in service
        assert service.get("user") not in ("root", "0")
    assert "/healthz" in " ".join(services["moderator"]["healthcheck"]["test"])
    redis_url = urlsplit(services["worker"]["environment"]["MODERATOR_REDIS_URL"])
    assert redis_url.hostname == "redis" and redis_url.port == 6379


def test_the_sentinel_layer_adds_replicas_and_three_sentinels_the_service_asks() -> None:
    services = compose("compose.sentinel.yaml")["services"]
    sentinels = sorted(name for name in services if name.startswith("sentinel-"))
    replicas = sorted(name for name in services if name.startswith("redis-replica-"))
    assert len(sentinels) == 3 and len(replicas) == 2  # one replica is left after a failover
    for name in replicas:
        assert services[name]["command"][-3:] == ["--replicaof", "redis", "6379"]
    conf = (DEPLOY / "sentinel.conf").read_text(encoding="utf-8")
    monitor = next(line.split() for line in conf.splitlines() if line.startswith("sentinel mon"))
    assert monitor[2:5] == ["moderator", "redis", "6379"] and int(monitor[5]) == 2
    for name in ("moderator", "worker"):
        settings = Settings.from_env(services[name]["environment"])
        assert settings.redis_sentinels is not None
        assert settings.redis_sentinels.master == monitor[2]
        assert sorted(host for host, _ in settings.redis_sentinels.hosts) == sentinels
        assert settings.redis_min_replicas == 1
        # what compose.yaml fixes for these services still holds
        base = compose()["services"][name]["environment"]
        assert base.items() <= services[name]["environment"].items()


def test_compose_workers_mount_the_models_read_only() -> None:
    services = compose()["services"]
    model_dir = services["worker"]["environment"]["MODERATOR_MODEL_DIR"]
    mounts = [v.rsplit(":", 2) for v in services["worker"]["volumes"]]
    assert [model_dir, "ro"] in [m[1:] for m in mounts]
    assert services["moderator"]["env_file"] == services["worker"]["env_file"] == ".env"


def test_compose_waits_longer_than_the_shutdown_timeout() -> None:
    timeout = Settings.from_env(env_file(DEPLOY / ".env.example")).shutdown_timeout_s
    for name in ("moderator", "worker"):
        service = compose()["services"][name]
        assert service["stop_signal"] == "SIGTERM"
        assert duration_s(service["stop_grace_period"]) > timeout


# --- systemd ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["moderator.service", "moderator-worker@.service"])
def test_systemd_units_stop_gracefully_and_are_hardened(name: str) -> None:
    sections = unit(SYSTEMD / name)
    command = unit_value(sections, "Service", "ExecStart").split()
    assert command[0].endswith("/moderator")
    assert command[1] == ("serve" if name == "moderator.service" else "worker")
    assert unit_value(sections, "Service", "KillSignal") == "SIGTERM"
    assert unit_value(sections, "Service", "Restart") == "on-failure"
    timeout = Settings.from_env(env_file(SYSTEMD / "moderator.env.example")).shutdown_timeout_s
    assert duration_s(unit_value(sections, "Service", "TimeoutStopSec")) > timeout
    assert unit_value(sections, "Service", "NoNewPrivileges") == "yes"
    assert unit_value(sections, "Service", "ProtectSystem") == "strict"
    service = dict(sections["Service"])
    assert service.get("DynamicUser") == "yes" or service.get("User") not in (None, "root")
    assert unit_value(sections, "Service", "EnvironmentFile").endswith("moderator.env")


# --- redis.conf ---------------------------------------------------------------------------


def redis_conf() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / "redis.conf").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.strip().partition(" ")
            assert name not in values, f"{name} set twice"
            values[name] = value
    return values


def test_redis_conf_keeps_every_accepted_comment() -> None:
    conf = redis_conf()
    assert conf["appendonly"] == "yes"
    assert conf["appendfsync"] in ("everysec", "always")
    assert conf["maxmemory-policy"] == "noeviction"
    assert conf["no-appendfsync-on-rewrite"] == "no"


@pytest.fixture
def redis_with_the_conf(tmp_path: Path) -> Iterator[redis.Redis]:
    """A real redis-server started from deploy/redis.conf (its own port and directory)."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Redis changes to `dir` while it reads the file: that one line points here instead.
    text = (DEPLOY / "redis.conf").read_text(encoding="utf-8")
    assert "\ndir /data\n" in text
    conf = tmp_path / "redis.conf"
    conf.write_text(text.replace("\ndir /data\n", f"\ndir {tmp_path}\n"), encoding="utf-8")
    process = subprocess.Popen(
        [server, str(conf), "--port", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    client = redis.Redis(port=port, decode_responses=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                exited = process.poll()
                if exited is not None or time.monotonic() > deadline:
                    output = process.stdout.read() if process.stdout else b""
                    pytest.fail(f"redis-server did not start ({exited}): {output.decode()}")
                time.sleep(0.05)
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def test_redis_starts_from_the_conf_as_intended(redis_with_the_conf: redis.Redis) -> None:
    config = redis_with_the_conf.config_get("*")
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "always"
    assert config["maxmemory-policy"] == "noeviction"
    assert config["save"] == ""
    redis_with_the_conf.set("k", "v")
    assert redis_with_the_conf.info("persistence")["aof_enabled"] == 1
