"""The redaction shown the leaks a reviewer's mutants let through (issue #12), each on a real
`paddledoctor report` run: a GitHub token and a PEM private key in values the doctor collects, and a
host whose name is a FQDN while the launcher's variables carry its short name.

The host name is set for real in a new UTS namespace (`unshare -u`, or `unshare -ru` as a user):
where the host forbids namespaces the test says so and skips; here and in CI it runs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import doctor_env

from paddledoctor.redaction import Redactor, redact

FQDN = "node7.cluster.example.com"
SHORT = "node7"
# Shapes as GitHub issues them: a classic personal token (ghp_ + 36) and a fine-grained one.
GHP = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
GITHUB_PAT = "github_pat_11ABCDEFG0" + "x" * 12 + "_" + "Y" * 59
PEM = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
       "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
       "QyNTUxOQAAACDxrandomplantedkeymaterialnottobeshownQAAAJgAAAAAAAAAAA==\n"
       "-----END OPENSSH PRIVATE KEY-----")
PEM_BODY = "QyNTUxOQAAACDxrandomplantedkeymaterialnottobeshown"


def _namespace_prefix() -> list[str]:
    if not shutil.which("unshare"):
        pytest.skip("needs unshare (util-linux) to give the doctor a host name of its own")
    for flags in (["-u"], ["-r", "-u"]):
        if subprocess.run(["unshare", *flags, "sh", "-c", f"hostname {FQDN}"],
                          capture_output=True, timeout=30).returncode == 0:
            return ["unshare", *flags, "sh", "-c", f'hostname {FQDN} && exec "$@"', "sh"]
    pytest.skip("this host forbids UTS namespaces (unshare -u and -ru fail): the host name cannot "
                "be set for the doctor without changing this machine's")


def _report(tmp_path, extra_env: dict, *args: str) -> subprocess.CompletedProcess:
    cmd = [*_namespace_prefix(), sys.executable, "-m", "paddledoctor", "report", "--quick",
           "--format", "json", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=doctor_env(extra=extra_env),
                          cwd=tmp_path, timeout=180)


PLANTS = {
    # paddle.distributed.launch writes the nodes' short names into these
    "PADDLE_CURRENT_ENDPOINT": f"{SHORT}:6170",
    "PADDLE_TRAINER_ENDPOINTS": f"{SHORT}:6170,node8:6170",
    # a private repo's raw file, as GitHub hands out its URL with the token in the query
    "PADDLE_PRETRAINED_URL": f"https://raw.githubusercontent.com/org/repo/main/w.pdparams?token={GHP}",
    "FLAGS_weights_source": f"hub pull with {GITHUB_PAT}",
    # a key pasted into an allowlisted variable whose name does not look secret
    "PADDLE_EXTRA_CONFIG": f"ssh:\n{PEM}\n",
}


def test_fqdn_short_name_tokens_and_keys_never_reach_the_report(tmp_path):
    proc = _report(tmp_path, PLANTS)
    assert proc.returncode in (0, 1), proc.stderr
    out = proc.stdout
    for secret in (SHORT, GHP, GITHUB_PAT, PEM_BODY, "BEGIN OPENSSH PRIVATE KEY"):
        assert secret not in out, secret
    env = json.loads(out)["facts"]["host"]["env"]
    assert env["PADDLE_CURRENT_ENDPOINT"] == "<host>:6170"
    assert env["PADDLE_TRAINER_ENDPOINTS"] == "<host>:6170,node8:6170"  # another node stays
    assert env["PADDLE_PRETRAINED_URL"].endswith("?token=<redacted github token>")
    assert "<redacted private-key token>" in env["PADDLE_EXTRA_CONFIG"]


def test_the_control_without_redaction_shows_the_plants(tmp_path):
    proc = _report(tmp_path, PLANTS, "--no-redact")
    for secret in (SHORT, GHP, GITHUB_PAT, PEM_BODY):
        assert secret in proc.stdout, secret


def test_a_redactor_for_an_fqdn_machine_takes_its_short_name_too(monkeypatch):
    """In-process, as `report` builds it: the names come from socket and os.uname."""
    import os
    import socket

    monkeypatch.setattr(socket, "gethostname", lambda: FQDN)
    real = os.uname()
    monkeypatch.setattr(os, "uname", lambda: os.uname_result(
        (real.sysname, FQDN, real.release, real.version, real.machine)))
    doc = redact({"facts": {"host": {"env": {"PADDLE_CURRENT_ENDPOINT": f"{SHORT}:6170"}}},
                  "findings": [{"title": f"rank 1 ({FQDN}) did not answer"}]},
                 Redactor.for_this_machine())
    text = json.dumps(doc)
    assert SHORT not in text and "<host>:6170" in text and "rank 1 (<host>)" in text
