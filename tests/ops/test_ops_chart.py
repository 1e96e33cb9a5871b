"""The Helm chart charts/rushes: rendered offline (helm-python-sdk, no helm binary, no cluster) with
several values combinations, `lint --strict`, and every manifest validated by kubernetes-validate
--strict (unknown fields are errors). CRD kinds (KEDA, Prometheus Operator) have no bundled schema:
they are checked structurally here instead.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import nats.errors
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError
from rushes.events.v1 import events_pb2
from rushes_config import GrpcSettings
from rushes_events import EventBus, EventBusUnavailable, new_envelope
from rushes_events.stream_setup import apply_stream_settings
from rushes_grpc import start_server
from rushes_grpc.auth import TokenStore
from rushes_stack.access import (
    SERVICE_DURABLES,
    SERVICE_EVENTS,
    SHARED_EVENTS,
    STAGE_WRITES,
    WITHOUT_OBJECT_STORE,
    nats_permissions,
    s3_user_policy,
)
from rushes_stack.components.base import LaunchCommand
from rushes_stack.components.nats import NatsServer

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "rushes"
CI_VALUES = CHART / "ci"
SERVICES = {"ingest", "library", "tagging", "asr", "grading", "picks", "enhance", "qc"}
GPU_BOUND = {"tagging", "asr", "enhance"}
CRD_KINDS = {"ScaledObject", "ServiceMonitor", "PrometheusRule"}
# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion: preStop `sleep`) and the newest
# schema kubernetes-validate bundles.
KUBE_VERSIONS = ("1.30.0", "1.37.0")
DEV_CREDENTIALS = {
    "credentials": {"s3SecretKey": "dev-secret", "postgresDsn": "postgresql://rushes@pg/rushes"}
}


def load_values(*names: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for name in names:
        _deep_merge(merged, yaml.safe_load((CI_VALUES / name).read_text()))
    return merged


def _deep_merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _deep_merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def merged(*layers: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for layer in layers:
        _deep_merge(values, layer)
    return values


def render(values: dict[str, Any]) -> list[dict[str, Any]]:
    manifests = helm.Chart.load(CHART).render(values, name="rushes", namespace="rushes")
    docs: list[dict[str, Any]] = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


COMBINATIONS = {
    "defaults-with-subcharts": DEV_CREDENTIALS,
    "offline": load_values("offline-values.yaml"),
    "offline-hpa-cpu-triton": load_values("offline-values.yaml", "hpa-values.yaml"),
    "offline-existing-secret": load_values("offline-values.yaml", "existing-secret-values.yaml"),
    "offline-security": load_values("offline-values.yaml", "security-values.yaml"),
    "offline-security-existing-secrets": load_values(
        "offline-values.yaml", "existing-secret-values.yaml", "security-existing-secrets-values.yaml"
    ),
    "defaults-with-subcharts-security": merged(DEV_CREDENTIALS, load_values("security-values.yaml")),
}


@pytest.fixture(scope="module", params=sorted(COMBINATIONS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(COMBINATIONS[request.param])


@pytest.fixture(scope="module")
def offline() -> list[dict[str, Any]]:
    return render(COMBINATIONS["offline"])


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
def test_every_manifest_validates_strictly(
    rendered: tuple[str, list[dict[str, Any]]], kube_version: str
) -> None:
    _, docs = rendered
    assert docs
    unknown: set[str] = set()
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, kube_version, strict=True)
        except SchemaNotFoundError:
            unknown.add(doc["kind"])
        except kubernetes_validate.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} at {where}: {exc.message}")
    assert unknown <= CRD_KINDS, f"kinds without a schema that are not known CRDs: {unknown - CRD_KINDS}"


def test_all_eight_services_get_a_deployment_service_and_pdb(offline: list[dict[str, Any]]) -> None:
    for kind in ("Deployment", "Service", "PodDisruptionBudget"):
        names = set(by_kind(offline, kind))
        assert {f"rushes-{s}" for s in SERVICES} <= names, (kind, names)
    assert "rushes-triton" in by_kind(offline, "Deployment")


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def test_gpu_bound_services_and_triton_schedule_on_gpu_nodes(offline: list[dict[str, Any]]) -> None:
    deployments = by_kind(offline, "Deployment")
    for name in (*GPU_BOUND, "triton"):
        pod = _pod(deployments[f"rushes-{name}"])
        assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}, name
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
            "tolerations"
        ], name
    for name in SERVICES - GPU_BOUND:
        assert "tolerations" not in _pod(deployments[f"rushes-{name}"]), name
    triton = _pod(deployments["rushes-triton"])["containers"][0]
    assert triton["resources"]["limits"]["nvidia.com/gpu"] == 1
    probe = triton["readinessProbe"]["exec"]["command"]
    assert probe[-2:] == ["face_detector", "whisper"], "every model gates readiness"


def test_pods_meet_the_restricted_pod_security_standard(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    for name, deployment in by_kind(docs, "Deployment").items():
        pod = _pod(deployment)
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"] == {"drop": ["ALL"]}, name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, f"{name}: a read-only root needs an emptyDir for /tmp"
            assert container["resources"]["requests"], name
        # The volume types the restricted standard allows (no hostPath).
        assert all({"emptyDir", "persistentVolumeClaim", "secret"} & set(v) for v in pod["volumes"]), name


def test_services_probe_grpc_health_and_shut_down_gracefully(offline: list[dict[str, Any]]) -> None:
    ack_wait = yaml.safe_load((CHART / "values.yaml").read_text())["config"]["nats"]["ackWaitSeconds"]
    for name in SERVICES:
        pod = _pod(by_kind(offline, "Deployment")[f"rushes-{name}"])
        container = pod["containers"][0]
        assert container["command"] == ["python", "-m", f"rushes_{name}"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["grpc"]["port"] == 50051, (name, probe)
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        assert pod["terminationGracePeriodSeconds"] > ack_wait + pre_stop, name
        env = {e["name"]: e for e in container["env"]}
        for secret_env in ("RUSHES_S3__SECRET_KEY", "RUSHES_POSTGRES__DSN", "RUSHES_NATS__PASSWORD"):
            assert "secretKeyRef" in env[secret_env]["valueFrom"], (
                f"{name}: {secret_env} must come from a Secret"
            )


def test_configmap_points_at_the_external_endpoints_and_every_peer(offline: list[dict[str, Any]]) -> None:
    data = by_kind(offline, "ConfigMap")["rushes-config"]["data"]
    assert data["RUSHES_NATS__URL"] == "nats://nats.data.svc.cluster.local:4222"
    assert data["RUSHES_S3__ENDPOINT"] == "minio.data.svc.cluster.local:9000"
    assert data["RUSHES_TRITON__URL"] == "rushes-triton.rushes.svc.cluster.local:8001"
    assert json.loads(data["RUSHES_PIPELINE_STAGES"]) == ["ingest", "tagging", "asr"]
    for name in SERVICES:
        assert data[f"RUSHES_{name.upper()}_ADDRESS"] == f"rushes-{name}.rushes.svc.cluster.local:50051"
    assert "RUSHES_S3__SECRET_KEY" not in data


def test_keda_scales_each_consumer_on_its_jetstream_lag_and_triton_on_queue_time(
    offline: list[dict[str, Any]],
) -> None:
    scaled = by_kind(offline, "ScaledObject")
    deployments = by_kind(offline, "Deployment")
    assert set(scaled) == {f"rushes-{s}" for s in SERVICES} | {"rushes-triton"}
    for name, obj in scaled.items():
        assert obj["apiVersion"] == "keda.sh/v1alpha1"
        target = obj["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments, name
        assert "replicas" not in deployments[target["name"]]["spec"], f"{name}: KEDA owns the replica count"
        assert 1 <= obj["spec"]["minReplicaCount"] <= obj["spec"]["maxReplicaCount"]
    for name in SERVICES - {"ingest"}:  # ingest is request-driven: CPU only
        lag = [t for t in scaled[f"rushes-{name}"]["spec"]["triggers"] if t["type"] == "nats-jetstream"]
        assert lag and lag[0]["metadata"]["consumer"] == name and lag[0]["metadata"]["stream"] == "RUSHES"
        assert lag[0]["metadata"]["natsServerMonitoringEndpoint"] == "nats.data.svc.cluster.local:8222"
    assert [t["type"] for t in scaled["rushes-ingest"]["spec"]["triggers"]] == ["cpu"]
    (trigger,) = scaled["rushes-triton"]["spec"]["triggers"]
    assert (
        trigger["type"] == "prometheus" and "nv_inference_queue_duration_us" in trigger["metadata"]["query"]
    )


def test_without_keda_hpas_scale_on_cpu_and_triton_runs_from_a_model_volume() -> None:
    docs = render(COMBINATIONS["offline-hpa-cpu-triton"])
    assert not by_kind(docs, "ScaledObject")
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    assert set(hpas) == {f"rushes-{s}" for s in SERVICES} | {"rushes-triton"}
    triton = _pod(by_kind(docs, "Deployment")["rushes-triton"])
    assert "nvidia.com/gpu" not in triton["containers"][0]["resources"]["limits"]
    assert "nodeSelector" not in triton
    volumes = {v["name"]: v for v in triton["volumes"]}
    assert volumes["models"]["persistentVolumeClaim"]["claimName"] == "rushes-models"


def test_existing_secret_means_no_chart_secret_and_pinned_digests() -> None:
    docs = render(COMBINATIONS["offline-existing-secret"])
    assert not by_kind(docs, "Secret")
    deployments = by_kind(docs, "Deployment")
    ingest = _pod(deployments["rushes-ingest"])["containers"][0]
    assert ingest["image"].startswith("ghcr.io/rushes/rushes-service@sha256:")
    env = {e["name"]: e for e in ingest["env"]}
    assert env["RUSHES_POSTGRES__DSN"]["valueFrom"]["secretKeyRef"]["name"] == "rushes-credentials"
    assert deployments["rushes-ingest"]["spec"]["replicas"] == 3
    # Service autoscaling off: only Triton (its own switch) keeps a ScaledObject.
    assert set(by_kind(docs, "ScaledObject")) == {"rushes-triton"}
    assert not by_kind(docs, "HorizontalPodAutoscaler")


def test_network_policies_deny_by_default_and_open_only_what_is_needed(offline: list[dict[str, Any]]) -> None:
    policies = by_kind(offline, "NetworkPolicy")
    deny = policies["rushes-default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny and "egress" not in deny
    services = policies["rushes-services"]["spec"]
    ports = {p["port"] for rule in services["ingress"] for p in rule["ports"]}
    assert ports == {50051, 9100}
    egress_ports = {p["port"] for rule in services["egress"] for p in rule.get("ports", [])}
    assert {53, 4222, 9000, 5432, 8001, 50051} <= egress_ports
    triton = policies["rushes-triton"]["spec"]
    assert [p["port"] for p in triton["egress"][0]["ports"]] == [53, 53], "Triton calls nothing but DNS"


def test_a_hook_job_applies_the_stream_settings_as_the_operator(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    """Service NATS users may not change the stream: the post-install/upgrade job does, with the
    operators' user when each service has its own, in a pod as locked down as the services'."""
    combination, docs = rendered
    job = by_kind(docs, "Job")["rushes-stream-setup"]
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "OnFailure" and pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["command"] == ["python", "-m", "rushes_events.stream_setup"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["envFrom"] == [{"configMapRef": {"name": "rushes-config"}}]
    env = {e["name"]: e for e in container["env"]}
    user = env["RUSHES_NATS__USER"]["valueFrom"]["secretKeyRef"]
    per_service = "security" in combination
    assert user["key"] == ("admin-nats-user" if per_service else "nats-user"), combination
    assert all("value" not in env[name] for name in ("RUSHES_NATS__USER", "RUSHES_NATS__PASSWORD"))
    policy = by_kind(docs, "NetworkPolicy").get("rushes-stream-setup")
    if policy is not None:
        assert "ingress" not in policy["spec"]
        ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}
        assert {53, 4222} <= ports and not ports & {9000, 5432, 8001, 50051}, "NATS and DNS only"
        external = [rule for rule in policy["spec"]["egress"] if "ipBlock" in rule["to"][0]]
        assert all(rule["ports"] == [{"port": 4222, "protocol": "TCP"}] for rule in external)
        if combination.startswith("offline"):  # its externalEgress lists 10.0.0.0/8 with 4222 among others
            assert [rule["to"][0]["ipBlock"]["cidr"] for rule in external] == ["10.0.0.0/8"]


def test_monitoring_objects_ship_the_alert_file_and_every_dashboard(offline: list[dict[str, Any]]) -> None:
    monitors = by_kind(offline, "ServiceMonitor")
    assert set(monitors) == {"rushes-services", "rushes-triton"}
    for monitor in monitors.values():
        assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    (rule,) = by_kind(offline, "PrometheusRule").values()
    alert_file = yaml.safe_load((CHART / "alerts" / "rushes.rules.yaml").read_text())
    assert rule["spec"]["groups"] == alert_file["groups"]
    dashboards = {
        name: cm for name, cm in by_kind(offline, "ConfigMap").items() if name.startswith("rushes-dashboard-")
    }
    assert len(dashboards) == len(list((CHART / "dashboards").glob("*.json"))) == 5
    for cm in dashboards.values():
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        ((filename, body),) = cm["data"].items()
        assert json.loads(body) == json.loads((CHART / "dashboards" / filename).read_text())


def test_committed_dashboards_are_what_the_generator_writes(tmp_path: Path) -> None:
    sys.path.insert(0, str(CHART / "dashboards"))
    try:
        import generate  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    for name in generate.DASHBOARDS:
        committed = (CHART / "dashboards" / f"{name}.json").read_text()
        assert committed == generate.render(name), f"run charts/rushes/dashboards/generate.py ({name})"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"serviceDefaults": {"terminationGracePeriodSeconds": 30}},
            "must exceed config.nats.ackWaitSeconds",
        ),
        ({"services": {"picks": {"module": ""}}}, "services.picks.module is required"),
        ({"services": {"Bad_Name": {"module": "x"}}}, "services.Bad_Name: service names are lowercase"),
        ({"triton": {"modelRepository": {"source": "s3"}}}, 'must be "image" or "volume"'),
        (
            {"triton": {"modelRepository": {"source": "volume", "persistentVolumeClaim": ""}}},
            "persistentVolumeClaim is required",
        ),
        ({"nats": {"external": {"url": ""}}}, "nats.external.url is required"),
        ({"credentials": {"s3SecretKey": ""}}, "credentials.s3SecretKey is required"),
    ],
)
def test_bad_values_fail_the_render_with_the_value_named(override: dict[str, Any], message: str) -> None:
    values = copy.deepcopy(COMBINATIONS["offline"])
    _deep_merge(values, override)
    with pytest.raises(helm.HelmError, match=message):
        render(values)


def _lint_messages(chart: Path, values: dict[str, Any]) -> list[str]:
    report = helm.lint(chart, values, strict=True)
    return [m["error"] for m in report["messages"] if m["severity"] >= 2] + list(report["errors"])


def test_lint_strict_is_clean_apart_from_the_unfetchable_dependencies(tmp_path: Path) -> None:
    values = COMBINATIONS["offline"]
    # The real chart: the only finding is that charts/ lacks the subcharts (no chart repos here).
    findings = set(_lint_messages(CHART, values))
    assert findings == {"chart directory is missing these dependencies: nats,minio,postgresql"}, findings
    # The same chart without its dependency declarations lints clean under --strict.
    offline_chart = tmp_path / "rushes"
    shutil.copytree(CHART, offline_chart)
    meta = yaml.safe_load((offline_chart / "Chart.yaml").read_text())
    meta.pop("dependencies")
    (offline_chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    for name in sorted(COMBINATIONS):
        assert _lint_messages(offline_chart, COMBINATIONS[name]) == [], name


def test_dependencies_are_pinned_and_switchable() -> None:
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    deps = {d["name"]: d for d in meta["dependencies"]}
    assert set(deps) == {"nats", "minio", "postgresql"}
    for name, dep in deps.items():
        assert dep["condition"] == f"{name}.enabled"
        assert all(part.isdigit() for part in dep["version"].split(".")), f"{name} must pin an exact version"


def test_alert_file_passes_promtool_when_available() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip(
            "promtool not installed (Debian package `prometheus`); the metric coverage test parses the rules"
        )
    result = subprocess.run(
        [promtool, "check", "rules", str(CHART / "alerts" / "rushes.rules.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# -- security: gRPC tokens and TLS, NATS TLS, per-service NATS users and S3 keys ----------------------

SECURE = ("offline-security", "offline-security-existing-secrets", "defaults-with-subcharts-security")
# Environment variables that carry a credential: never a plain `value` in a Deployment.
CREDENTIAL_ENV = re.compile(r"PASSWORD|SECRET|ACCESS_KEY|DSN|TOKEN$|__USER$")


@pytest.fixture(scope="module")
def secure() -> list[dict[str, Any]]:
    return render(COMBINATIONS["offline-security"])


def _containers(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name.removeprefix("rushes-"): _pod(d)["containers"][0]
        for name, d in by_kind(docs, "Deployment").items()
        if name != "rushes-triton"
    }


def _secret_values(docs: list[dict[str, Any]]) -> set[str]:
    """The passwords, secret keys and DSNs the chart-made Secrets hold (user names and access keys
    name an identity and the principals file holds digests: neither is secret)."""
    values: set[str] = set()
    for secret in by_kind(docs, "Secret").values():
        values |= {v for k, v in secret.get("stringData", {}).items() if re.search("password|secret|dsn", k)}
    return {v for v in values if len(v) >= 8}


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_no_credential_is_a_plain_value_in_a_deployment(combination: str) -> None:
    docs = render(COMBINATIONS[combination])
    secrets = _secret_values(docs)
    secret_names = {n for n in by_kind(docs, "Secret")}
    for kind in ("Deployment", "ConfigMap", "Job"):
        for name, doc in by_kind(docs, kind).items():
            text = json.dumps(doc)
            leaked = sorted(s for s in secrets if s in text)
            assert not leaked, f"{kind}/{name} carries secret values in plain text"
    for service, container in _containers(docs).items():
        for env in container["env"]:
            if CREDENTIAL_ENV.search(env["name"]):
                assert "value" not in env, f"{service}: {env['name']} is a plain value"
                ref = env["valueFrom"]["secretKeyRef"]
                if "existing" in combination:
                    continue
                # A chart-made Secret must hold every key a Deployment reads from it.
                assert ref["name"] in secret_names, (service, env["name"])
                (secret,) = [s for n, s in by_kind(docs, "Secret").items() if n == ref["name"]]
                assert ref["key"] in secret["stringData"] or ref.get("optional"), (service, ref)


def test_security_off_mounts_nothing_and_probes_with_kubelet_grpc(offline: list[dict[str, Any]]) -> None:
    for service, container in _containers(offline).items():
        names = {e["name"] for e in container["env"]}
        assert not {n for n in names if "TLS" in n or "AUTH_TOKENS" in n}, service
        assert {m["name"] for m in container["volumeMounts"]} == {"tmp", "state"}, service
        assert container["readinessProbe"]["grpc"]["port"] == 50051, service
    assert "rushes-nats-auth" not in by_kind(offline, "ConfigMap")


def test_security_on_mounts_principals_and_certificates_read_only(secure: list[dict[str, Any]]) -> None:
    deployments = by_kind(secure, "Deployment")
    for service, container in _containers(secure).items():
        pod = _pod(deployments[f"rushes-{service}"])
        env = {e["name"]: e.get("value") for e in container["env"]}
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        expected = {
            "RUSHES_GRPC__AUTH_TOKENS_FILE": ("grpc-auth", "rushes-grpc-auth", "principals.json"),
            "RUSHES_GRPC__TLS_CERT_FILE": ("grpc-tls", "rushes-grpc-tls", "tls.crt"),
            "RUSHES_GRPC__TLS_KEY_FILE": ("grpc-tls", "rushes-grpc-tls", "tls.key"),
            "RUSHES_GRPC_CLIENT_CA_FILE": ("grpc-tls", "rushes-grpc-tls", "ca.crt"),
            "RUSHES_NATS__TLS_CA_FILE": ("nats-tls", "rushes-nats-ca", "ca.crt"),
        }
        for variable, (volume, secret_name, key) in expected.items():
            mount = mounts[volume]
            assert mount["readOnly"] is True, (service, volume)
            assert env[variable] == f"{mount['mountPath']}/{key}", (service, variable)
            secret = volumes[volume]["secret"]
            assert secret["secretName"] == secret_name, (service, volume)
            assert {"key": key, "path": key} in secret["items"], (service, volume)
            assert secret["defaultMode"] == 0o440, (service, volume)
        # Not mutual TLS, no NATS client certificate in this combination.
        assert "RUSHES_GRPC__TLS_CLIENT_CA_FILE" not in env and "RUSHES_NATS__TLS_CERT_FILE" not in env
        # Kubelet cannot probe gRPC over TLS: every probe runs the TLS health check in the container.
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            command = container[probe]["exec"]["command"]
            assert command[:2] == ["python", "-c"], (service, probe)
            assert command[3:] == ["50051", f"rushes-{service}.rushes.svc.cluster.local"], (service, probe)
        assert (
            "checksum/grpc-auth"
            in deployments[f"rushes-{service}"]["spec"]["template"]["metadata"]["annotations"]
        )


def test_mutual_tls_and_nats_client_certificates_from_existing_secrets() -> None:
    docs = render(COMBINATIONS["offline-security-existing-secrets"])
    assert not by_kind(docs, "Secret"), "every credential comes from Secrets made outside the chart"
    for service, container in _containers(docs).items():
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["RUSHES_GRPC__TLS_CLIENT_CA_FILE"] == "/etc/rushes/grpc-tls/ca.crt", service
        assert env["RUSHES_NATS__TLS_CERT_FILE"] == "/etc/rushes/nats-tls/tls.crt", service
        assert env["RUSHES_NATS__TLS_KEY_FILE"] == "/etc/rushes/nats-tls/tls.key", service
    pod = _pod(by_kind(docs, "Deployment")["rushes-qc"])
    volumes = {v["name"]: v["secret"] for v in pod["volumes"] if "secret" in v}
    assert volumes["grpc-auth"]["secretName"] == "rushes-principals"
    assert volumes["nats-tls"]["secretName"] == "rushes-nats-client-tls"


def test_each_service_has_its_own_nats_user_and_s3_key(secure: list[dict[str, Any]]) -> None:
    for service, container in _containers(secure).items():
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"] if "valueFrom" in e}
        assert refs["RUSHES_NATS__USER"]["key"] == f"{service}-nats-user"
        assert refs["RUSHES_NATS__PASSWORD"]["key"] == f"{service}-nats-password"
        if service in WITHOUT_OBJECT_STORE:
            assert "RUSHES_S3__SECRET_KEY" not in refs, f"{service} never touches objects: no S3 key"
        else:
            assert refs["RUSHES_S3__ACCESS_KEY"]["key"] == f"{service}-s3-access-key"
            assert refs["RUSHES_S3__SECRET_KEY"]["key"] == f"{service}-s3-secret-key"
        assert all(not r.get("optional") for r in refs.values()), (
            f"{service}: a missing key must stop the pod"
        )
    secret = by_kind(secure, "Secret")["rushes-credentials"]["stringData"]
    passwords = [v for k, v in secret.items() if k.endswith("-nats-password")]
    assert len(passwords) == len(SERVICES) + 1 and len(set(passwords)) == len(passwords)
    assert all(len(p) == 32 for p in passwords)


def _auth_conf(docs: list[dict[str, Any]]) -> str:
    text: str = by_kind(docs, "ConfigMap")["rushes-nats-auth"]["data"]["rushes-auth.conf"]
    return text


def _users(conf: str) -> dict[str, dict[str, Any]]:
    """The user entries of the rendered authorization block, keyed by their $RUSHES_NATS_USER_<X>."""
    users = {}
    for line in conf.splitlines():
        line = line.strip().rstrip(",")
        if line.startswith('{"user"'):
            entry = json.loads(re.sub(r"(?<![\"\w])\$(RUSHES_\w+)", r'"$\1"', line))
            users[entry["user"].removeprefix("$RUSHES_NATS_USER_").lower()] = entry
    return users


def test_nats_auth_block_mirrors_the_local_stacks_access_table(secure: list[dict[str, Any]]) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())["security"]["natsPermissions"]
    assert {k: tuple(v) for k, v in values["serviceEvents"].items()} == SERVICE_EVENTS
    assert tuple(values["sharedEvents"]) == SHARED_EVENTS
    assert set(values["withoutObjectStore"]) == WITHOUT_OBJECT_STORE
    services = yaml.safe_load((CHART / "values.yaml").read_text())["services"]
    assert {name: spec.get("durable") or None for name, spec in services.items()} == SERVICE_DURABLES
    users = _users(_auth_conf(secure))
    assert set(users) == SERVICES | {"admin"}
    for service in SERVICES:
        assert users[service]["password"] == f"$RUSHES_NATS_PASSWORD_{service.upper()}"
        assert users[service]["permissions"] == nats_permissions(service), service
    assert "permissions" not in users["admin"]
    assert "no_auth_user" not in _auth_conf(secure), "no anonymous user"


def _s3_policies(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The rendered MinIO policies, service -> parsed document."""
    data = by_kind(docs, "ConfigMap")["rushes-s3-policies"]["data"]
    return {key.removesuffix(".json"): json.loads(text) for key, text in data.items()}


def test_s3_policies_mirror_the_local_stacks_write_table(secure: list[dict[str, Any]]) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())["security"]["s3Policies"]
    assert {k: tuple(v) for k, v in values["serviceWrites"].items()} == STAGE_WRITES
    bucket = by_kind(secure, "ConfigMap")["rushes-config"]["data"]["RUSHES_S3__BUCKET"]
    policies = _s3_policies(secure)
    assert set(policies) == SERVICES - WITHOUT_OBJECT_STORE, "one policy per service with an S3 key"
    for service, policy in policies.items():
        assert policy == s3_user_policy(service, bucket), service


def test_s3_policies_follow_the_bucket_and_fail_closed(offline: list[dict[str, Any]]) -> None:
    assert "rushes-s3-policies" not in by_kind(offline, "ConfigMap"), "shared key: no per-service policy"
    docs = render(
        merged(
            COMBINATIONS["offline-security"],
            {
                "config": {"s3": {"bucket": "film-rushes"}},
                "services": {"render": {"module": "rushes_render"}},
                "security": {
                    "natsPermissions": {"serviceEvents": {"render": []}},
                    "s3Policies": {"serviceWrites": {"render": []}},
                },
            },
        )
    )
    policies = _s3_policies(docs)
    for service, policy in policies.items():
        assert policy == s3_user_policy(service, "film-rushes"), service
    # A service with no pattern may read the bucket but write nothing.
    assert [s["Sid"] for s in policies["render"]["Statement"]] == ["ReadTheBucket"]


@dataclass
class _ChartNats(NatsServer):
    """nats-server configured with the chart's authorization block, users and passwords from env."""

    conf: str = ""
    credentials: dict[str, str] = field(default_factory=dict)

    def config_text(self) -> str:
        return self.conf

    def command(self) -> LaunchCommand:
        launch = super().command()
        launch.env.update(self.credentials)
        return launch


async def test_real_nats_server_enforces_the_rendered_permissions(
    secure: list[dict[str, Any]], tmp_path: Path
) -> None:
    credentials = {}
    for name in (*SERVICES, "admin"):
        credentials[f"RUSHES_NATS_USER_{name.upper()}"] = f"rushes-{name}"
        credentials[f"RUSHES_NATS_PASSWORD_{name.upper()}"] = f"{name}-Pw7x"
    base = NatsServer.create(tmp_path)
    server = _ChartNats(
        data_dir=tmp_path, port=base.port, monitor_port=base.monitor_port, user=base.user,
        password=base.password, conf=_auth_conf(secure), credentials=credentials,
    )  # fmt: skip
    server.start(tmp_path / "nats.log", die_with_parent=True)
    try:
        admin = await EventBus.connect(server.settings(user="rushes-admin", password="admin-Pw7x"), name="a")
        tagging = await EventBus.connect(
            server.settings(user="rushes-tagging", password="tagging-Pw7x"), name="tagging"
        )
        try:
            await admin.ensure_stream()
            before = (await admin.js.stream_info("RUSHES")).state.messages
            tagged = events_pb2.AssetTagged(
                envelope=new_envelope(
                    "rushes.v1.asset.tagged", asset_id="b" * 16, producer="t", producer_version="1"
                )
            )
            await tagging.publish(tagged, msg_id="tagged-1")
            forged = events_pb2.AssetIngested(
                envelope=new_envelope(
                    "rushes.v1.asset.ingested", asset_id="b" * 16, producer="t", producer_version="1"
                )
            )
            with pytest.raises(EventBusUnavailable):
                await tagging.publish(forged, msg_id="forged-1", timeout_s=1.0)
            assert (await admin.js.stream_info("RUSHES")).state.messages == before + 1
            # The stream's settings are the operator's: tagging may look, not change; the hook
            # job's code with the admin user applies them.
            await tagging.ensure_stream(update=False)
            current = (await tagging.js.stream_info("RUSHES")).config
            with pytest.raises((TimeoutError, nats.errors.TimeoutError, nats.errors.NoRespondersError)):
                await asyncio.wait_for(tagging.js.update_stream(current.evolve(duplicate_window=60.0)), 2)
            wider = server.settings(user="rushes-admin", password="admin-Pw7x", duplicate_window_s=900.0)
            await apply_stream_settings(wider, wait_s=5)
            assert (await admin.js.stream_info("RUSHES")).config.duplicate_window == 900.0
        finally:
            await tagging.close()
            await admin.close()
        with pytest.raises(EventBusUnavailable, match=r"(?i)authorization"):
            await EventBus.connect(server.settings(user=None, password=None), name="anonymous", wait_s=2.0)
    finally:
        server.stop()


def test_chart_made_principals_file_is_what_the_services_load(
    secure: list[dict[str, Any]], tmp_path: Path
) -> None:
    text = by_kind(secure, "Secret")["rushes-grpc-auth"]["stringData"]["principals.json"]
    path = tmp_path / "principals.json"
    path.write_text(text)
    store = TokenStore.load(path)
    principals = load_values("security-values.yaml")["security"]["grpcAuth"]["principals"]
    assert [(p["name"], p["role"]) for p in principals] == [("ana", "reviewer"), ("ci-bot", "editor")]
    assert all(p["token_sha256"] in text for p in principals)
    assert store.authenticate("not-a-listed-token") is None


def _self_signed(folder: Path, dns_name: str) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    assert openssl, "openssl CLI needed to make a test certificate (Debian package openssl)"
    cert, key = folder / "tls.crt", folder / "tls.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={dns_name}",
         "-addext", f"subjectAltName=DNS:{dns_name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_tls_probe_command_checks_health_of_a_real_tls_server(
    secure: list[dict[str, Any]], tmp_path: Path
) -> None:
    container = _containers(secure)["ingest"]
    command = container["readinessProbe"]["exec"]["command"]
    dns_name = command[4]
    cert, key = _self_signed(tmp_path, dns_name)

    async def scenario() -> list[int]:
        settings = GrpcSettings(address="127.0.0.1:0", tls_cert_file=str(cert), tls_key_file=str(key))
        server = await start_server(
            name="probe", address="127.0.0.1:0", register=lambda s: None,
            service_names=["rushes.probe.v1.Probe"], settings=settings,
        )  # fmt: skip
        env = {**os.environ, "RUSHES_GRPC_CLIENT_CA_FILE": str(cert), "RUSHES_GRPC__TLS_KEY_FILE": str(key),
               "RUSHES_GRPC__TLS_CERT_FILE": str(cert)}  # fmt: skip
        argv = [sys.executable, *command[1:3], str(server.port)]

        async def probe(name: str) -> int:
            process = await asyncio.create_subprocess_exec(*argv, name, env=env)
            return await asyncio.wait_for(process.wait(), 60)

        try:
            codes = [await probe(dns_name), await probe("somebody-else.example")]
            server.set_serving(False)
            codes.append(await probe(dns_name))
        finally:
            await server.stop(0)
        codes.append(await probe(dns_name))  # nothing listening
        return codes

    assert asyncio.run(scenario()) == [0, 1, 1, 1]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"security": {"grpcAuth": {"enabled": True}}}, "needs security.grpcAuth.existingSecret or"),
        (
            {"security": {"grpcAuth": {"enabled": True, "principals": [{"name": "ana", "role": "root",
                                                                         "token_sha256": "a" * 64}]}}},
            r"security.grpcAuth.principals\[0\].role \"root\" must be one of",
        ),
        (
            {"security": {"grpcAuth": {"enabled": True, "principals": [{"name": "ana", "role": "viewer",
                                                                         "token_sha256": "my-plain-token"}]}}},
            r"security.grpcAuth.principals\[0\].token_sha256 must be the lowercase hex SHA-256",
        ),
        (
            {"security": {"grpcAuth": {"enabled": True, "principals": [{"role": "viewer"}]}}},
            r"security.grpcAuth.principals\[0\].name is required",
        ),
        ({"security": {"grpcTls": {"enabled": True}}}, "security.grpcTls.secretName is required"),
        (
            {"security": {"grpcTls": {"requireClientCertificates": True}}},
            "security.grpcTls.requireClientCertificates needs security.grpcTls.enabled",
        ),
        ({"security": {"natsTls": {"enabled": True}}}, "security.natsTls.secretName is required"),
        (
            {"credentials": {"perService": True}, "services": {"render": {"module": "rushes_render"}}},
            "security.natsPermissions.serviceEvents.render is missing",
        ),
        (
            {"credentials": {"perService": True}, "services": {"admin": {"module": "rushes_admin"}}},
            "services.admin: with credentials.perService the name admin belongs to",
        ),
        (
            {"credentials": {"perService": True}, "services": {"render": {"module": "rushes_render"}},
             "security": {"natsPermissions": {"serviceEvents": {"render": []}}}},
            "security.s3Policies.serviceWrites.render is missing",
        ),
        (
            {"credentials": {"perService": True}, "config": {"s3": {"bucket": "rushes/*"}}},
            r"config.s3.bucket \"rushes/\*\" is not an S3 bucket name",
        ),
    ],
)  # fmt: skip
def test_bad_security_values_fail_the_render_with_the_value_named(
    override: dict[str, Any], message: str
) -> None:
    values = merged(COMBINATIONS["offline"], override)
    with pytest.raises(helm.HelmError, match=message):
        render(values)
