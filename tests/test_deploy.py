"""The deploy files (Dockerfile, compose.yaml, deploy/k8s/*.yaml, deploy/nginx-compose.conf) checked against
the app they deploy: its port, health path, environment variables and upload limit. No container engine
runs here, so nothing is built or started by these tests (README says what was and was not run); the
nginx configuration itself is exercised for real by tests/browser/test_nginx_replicas.py."""

from __future__ import annotations

import re
import sys
import tomllib

import pytest
import yaml

from explorer.core import data, workers
from explorer.training import runner
from tests.conftest import ROOT

CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
PORT = CONFIG["server"]["port"]
HEALTH = "/_stcore/health"
APP_ENV = {runner.MAX_TRAININGS_ENV, data.ENV_VAR, workers.RUN_DIR_ENV, workers.MAX_JOBS_ENV}


def _manifests() -> dict[str, dict]:
    docs = {}
    for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            docs[doc["kind"]] = doc
    return docs


def test_the_image_is_cpu_only_non_root_and_checks_health():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "download.pytorch.org/whl/cpu" in text  # the CPU wheels, not the multi-GB CUDA build
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    assert "HEALTHCHECK" in text and f"127.0.0.1:{PORT}{HEALTH}" in text
    assert f"EXPOSE {PORT}" in text and '"--server.port", "8501"' in text and '"--server.address", "0.0.0.0"' in text
    assert {m for m in re.findall(r"(CNN_EXPLORER_\w+)=", text)} <= APP_ENV
    for copied in re.findall(r"^COPY (\S+)", text, re.M):
        assert (ROOT / copied).exists(), copied


def test_compose_runs_replicas_behind_nginx_with_the_same_affinity():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    app, nginx = compose["services"]["app"], compose["services"]["nginx"]
    assert "replicas" in app["deploy"] and app["expose"] == [str(PORT)]
    assert HEALTH in " ".join(app["healthcheck"]["test"])
    assert set(app["environment"]) <= APP_ENV
    mount = nginx["volumes"][0].split(":")
    assert (ROOT / mount[0]).resolve() == ROOT / "deploy" / "nginx-compose.conf" and mount[1] == "/etc/nginx/nginx.conf"
    sys.path.insert(0, str(ROOT / "deploy"))
    import run_replicas

    expected = run_replicas.nginx_config(listen="8080", backends=run_replicas.COMPOSE_BACKENDS)
    assert (ROOT / "deploy" / "nginx-compose.conf").read_text(encoding="utf-8") == expected
    assert f"server app:{PORT};" in expected and "hash $route consistent" in expected


def test_nginx_accepts_the_uploads_the_app_accepts():
    size = re.search(r"client_max_body_size (\d+)m;", (ROOT / "deploy" / "nginx.conf").read_text())
    assert int(size.group(1)) >= CONFIG["server"]["maxUploadSize"]


def test_kubernetes_manifests_probe_health_on_the_apps_port_and_keep_sessions_sticky():
    docs = _manifests()
    assert set(docs) == {"Deployment", "Service", "Ingress", "HorizontalPodAutoscaler"}
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["ports"][0]["containerPort"] == PORT and pod["securityContext"]["runAsNonRoot"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == HEALTH
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) <= set(container["resources"]["limits"])
    assert {e["name"] for e in container["env"]} <= APP_ENV
    service = docs["Service"]["spec"]
    assert service["selector"] == docs["Deployment"]["spec"]["selector"]["matchLabels"]
    assert service["ports"][0]["targetPort"] == container["ports"][0]["name"]
    notes = docs["Ingress"]["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-body-size"].rstrip("m")) >= CONFIG["server"]["maxUploadSize"]
    backend = docs["Ingress"]["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == docs["Service"]["metadata"]["name"]
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"]["name"] == docs["Deployment"]["metadata"]["name"]
    assert hpa["metrics"][0]["resource"]["name"] == "cpu" and hpa["minReplicas"] >= 1


@pytest.mark.parametrize("name", ["MAX_TRAININGS_ENV", "RUN_DIR_ENV"])
def test_the_environment_variables_named_in_deploy_files_are_the_apps(name):
    value = getattr(runner, name, None) or getattr(workers, name)
    assert value in (ROOT / "Dockerfile").read_text() + (ROOT / "deploy" / "k8s" / "deployment.yaml").read_text()
