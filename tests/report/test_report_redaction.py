"""Redaction: a secret planted in every place a report could pick it up never reaches the output,
and --no-redact proves the plants were really there."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys

import pytest
from conftest import doctor_env, gpu, nvml_machine

from paddledoctor.redaction import Redactor, host_label, redact, secret_name

UUID_A = "GPU-1234abcd-5678-90ef-1234-567890abcdef"
UUID_B = "GPU-feedbeef-0000-1111-2222-333344445555"
HF = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
AKIA = "AKIAIOSFODNN7EXAMPLE"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


# --- the redactor on text --------------------------------------------------------------------

def test_every_kind_of_secret_is_replaced_in_text():
    r = Redactor(hostnames={"gpu-node-17.corp.example"}, users={"alice"}, homes={"/home/alice"})
    text = (f"host gpu-node-17.corp.example user alice at /home/alice/venv/bin/python "
            f"pip index https://alice:hunter2@pypi.corp.example/simple token {HF} key {AKIA} "
            f"jwt {JWT} gpu {UUID_A}")
    out = r.text(text)
    for secret in ("gpu-node-17", "alice", "/home/alice", "hunter2", HF, AKIA, JWT, UUID_A):
        assert secret not in out, (secret, out)
    assert "~/venv/bin/python" in out
    assert "https://<redacted>@pypi.corp.example/simple" in out
    assert set(r.hits) >= {"host name", "user name", "home folder", "URL credentials",
                           "huggingface tokens", "aws-access-key tokens", "jwt tokens",
                           "GPU UUIDs/serials"}


def test_redaction_leaves_ordinary_text_alone():
    r = Redactor(hostnames={"vm"}, users={"root"}, homes={"/root"})
    text = "cuDNN 9.1.0.70, driver 550.54.14, CUDA 12.4, root cause, vmlinuz, /rootfs, hf_x, sk-1"
    assert r.text(text) == text
    assert r.text("/root/.cache") == "~/.cache"


def test_the_same_gpu_keeps_the_same_placeholder_and_two_gpus_stay_distinct():
    r = Redactor()
    doc = {"gpus": [{"uuid": UUID_A}, {"uuid": UUID_B}], "evidence": f"{UUID_A} failed"}
    out = r.value(doc)
    a, b = out["gpus"][0]["uuid"], out["gpus"][1]["uuid"]
    assert a != b and UUID_A not in json.dumps(out) and UUID_B not in json.dumps(out)
    assert out["evidence"] == f"{a} failed"


@pytest.mark.parametrize("name,secret", [
    ("PADDLE_AUTH_TOKEN", True), ("NCCL_IB_PASSWORD", True), ("FLAGS_api_key", True),
    ("HF_TOKEN", True), ("DATABASE_URL", True), ("SENTRY_DSN", True), ("SLACK_WEBHOOK", True),
    ("MY_SESSION_ID", True), ("aws_secret_access_key", True), ("CUDA_VISIBLE_DEVICES", False),
    ("LD_LIBRARY_PATH", False), ("NCCL_DEBUG", False), ("PWD", False),
])
def test_secret_looking_names(name, secret):
    assert secret_name(name) is secret


def test_env_values_under_secret_names_are_removed_wherever_they_are():
    doc = {"facts": {"host": {"env": {"PADDLE_AUTH_TOKEN": "plain-value-1",
                                      "CUDA_VISIBLE_DEVICES": "0,1"}}},
           "findings": [{"evidence": {"NCCL_IB_PASSWORD": "plain-value-2"}}]}
    out = redact(doc, Redactor())
    text = json.dumps(out)
    assert "plain-value-1" not in text and "plain-value-2" not in text
    assert out["facts"]["host"]["env"]["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert out["redaction"]["redacted"] is True


def test_host_label_is_stable_and_does_not_name_the_host():
    assert host_label("gpu-node-17") == host_label("gpu-node-17") != host_label("gpu-node-18")
    assert "gpu-node" not in host_label("gpu-node-17")


# --- the whole command, with secrets planted everywhere ---------------------------------------

PLANTED_ENV = {
    # allowlisted names that look secret: the value must go
    "PADDLE_AUTH_TOKEN": "planted-secret-value-001",
    "NCCL_IB_PASSWORD": "planted-secret-value-002",
    "FLAGS_session_cookie": "planted-secret-value-003",
    "CUDA_API_KEY": "planted-secret-value-004",
    # allowlisted, harmless names carrying secrets in their values
    "PADDLE_MASTER": "https://planteduser:planted-url-password@master.example:8090",
    "FLAGS_model_source": HF,
    "NCCL_SOCKET_IFNAME": AKIA,
    "PADDLE_JOB_TICKET": JWT,
    # never allowlisted at all
    "AWS_SECRET_ACCESS_KEY": "planted-secret-value-005",
    "HF_TOKEN": "planted-secret-value-006",
    "GITHUB_TOKEN": "planted-secret-value-007",
}
PLANTED_HOST = "planted-host-q7x"
PLANTED_USER = "planteduser9"


def _planted_run(tmp_path, *args, redacted=True) -> tuple[subprocess.CompletedProcess, list[str]]:
    home = tmp_path / "home" / PLANTED_USER
    work = home / "project"
    work.mkdir(parents=True)
    nvml = nvml_machine(gpus=[gpu(uuid=UUID_A, serial="1320421234567"),
                              gpu(uuid=UUID_B, serial="1320427654321")])
    extra = {**PLANTED_ENV, "HOME": str(home), "USER": PLANTED_USER, "LOGNAME": PLANTED_USER,
             "LD_LIBRARY_PATH": f"{home}/cuda/lib64"}
    env = doctor_env(nvml, extra=extra)
    cmd = [sys.executable, "-m", "paddledoctor", "report", *args] + ([] if redacted else ["--no-redact"])
    secrets = [v for v in PLANTED_ENV.values()] + ["planted-url-password", str(home), PLANTED_USER,
                                                   UUID_A, UUID_B]
    # The host name: planted in a UTS namespace where that is allowed (root), else the real one.
    if shutil.which("unshare") and subprocess.run(["unshare", "-u", "true"],
                                                  capture_output=True).returncode == 0:
        cmd = ["unshare", "-u", "sh", "-c", f'hostname {PLANTED_HOST} && exec "$@"', "sh", *cmd]
        secrets.append(PLANTED_HOST)
    else:
        secrets.append(socket.gethostname())
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work, timeout=180)
    return proc, secrets


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_no_planted_secret_reaches_the_report(tmp_path, fmt):
    proc, secrets = _planted_run(tmp_path, "--quick", "--format", fmt)
    assert proc.returncode == 1, proc.stderr  # the simulated GPUs with the CPU build: PD101
    assert "Traceback" not in proc.stderr
    leaked = [s for s in secrets if s in proc.stdout]
    assert not leaked, leaked
    assert "PD101" in proc.stdout  # still a useful report
    if fmt == "json":
        doc = json.loads(proc.stdout)
        assert doc["redaction"]["redacted"] is True
        assert doc["facts"]["host"]["env"]["PADDLE_AUTH_TOKEN"] == "<redacted>"
        assert "AWS_SECRET_ACCESS_KEY" not in doc["facts"]["host"]["env"]
        assert doc["facts"]["nvml"]["gpus"][0]["uuid"] != doc["facts"]["nvml"]["gpus"][1]["uuid"]


def test_no_redact_keeps_what_was_planted(tmp_path):
    """The control: without redaction the same run shows the plants (so the test above can fail)."""
    proc, secrets = _planted_run(tmp_path, "--quick", "--format", "json", redacted=False)
    doc = json.loads(proc.stdout)
    assert doc["redaction"] == {"redacted": False, "removed": {}}
    shown = [s for s in secrets if s in proc.stdout]
    assert UUID_A in shown and HF in shown and "planted-url-password" in shown
    assert str(doc["facts"]["host"]["disk"]["cwd"]["path"]).startswith(str(tmp_path))
    # secret-named variables are never collected with their values, redacted or not
    assert "planted-secret-value-001" not in proc.stdout
    assert "planted-secret-value-005" not in proc.stdout
