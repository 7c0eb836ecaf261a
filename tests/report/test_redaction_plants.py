"""Every redaction class of issue #11, planted in a real `paddledoctor report` run and in
`check --json`: 0 leaks with redaction, every plant shown by the `--no-redact` control (so the
test can fail), ordinary values (versions, driver numbers, hashes) kept, and a redacted report
re-diagnosed by `check --from` with the same codes as the original, for a user named `paddle`.

The token values are synthesized in the shapes their issuers document; none is a real key."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest
from conftest import doctor_env

from paddledoctor.doctor import load_facts
from paddledoctor.redaction import Redactor, _keys, secret_name

HOST = "qzhost7.corp.example"
SHORT = "qzhost7"
USER = "qzuser7"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
STRIPE = "sk_live_" + "51H8xYzAbCdEfGhIjKlMnOpQr"
AZURE_KEY = "Zm9vYmFyYmF6cXV4" * 5 + "Q2xvdWRLZXk/+w=="
NPM = "npm_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PYPI = "pypi-AgEIcHlwaS5vcmc" + "CJDk2YjQ4NzZhLWM0ZTgtNDM5ZC1hOWM3LTIwZjE2ZGQ1MGU4MAAC"
PGP_BODY = "lQOYBGVzZXJwbGFudGVkcGdwcHJpdmF0ZWtleW1hdGVyaWFs"
PGP = f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{PGP_BODY}\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----"
URL_PASSWORD = "pa/ss/w0rd9"
OPAQUE = "Xk9Qw2Lr7Tz4Mn8Bv1Cx6Hj3Gf5Ds0Ap"  # no known shape: caught by its entropy
SK_VALUE, UGI_VALUE = "plantedSkValue42", "plantedUgiPass42"
UUID_PREFIX = "GPU-5e2f9a1c"
IPS = ["10.23.45.67", "10.23.45.68", "10.23.45.69", "fd00::1234:5678", "fd00::abcd", "10.23.45.70"]
ORDINARY = ["12.4.1", "550.54.14", "9.1.0.70",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]

SECRET_PLANTS = {
    "FLAGS_google_api": GOOGLE,
    "FLAGS_billing": STRIPE,
    "PADDLE_BLOB_CONN": f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE_KEY};"
                        "EndpointSuffix=core.windows.net",
    "FLAGS_npm": NPM,
    "FLAGS_pypi_upload": PYPI,
    "PADDLE_EXTRA_CONFIG": f"gpg:\n{PGP}\n",
    "PADDLE_DATA_URL": f"https://bob:{URL_PASSWORD}@data.example/train",
    "FLAGS_opaque": OPAQUE,
    "FLAGS_launch_args": f"--conf BCE_SK={SK_VALUE} hadoop.job.ugi=bob,{UGI_VALUE}",
}
SECRETS = [GOOGLE, STRIPE, AZURE_KEY, NPM, PYPI, PGP_BODY, URL_PASSWORD, OPAQUE, SK_VALUE, UGI_VALUE]
IDENTITY_PLANTS = {
    "CUDA_VISIBLE_DEVICES": UUID_PREFIX,
    "POD_IP": IPS[0],
    "PADDLE_MASTER": f"{IPS[1]}:8090",
    "PADDLE_TRAINER_ENDPOINTS": f"{IPS[2]}:6170,[{IPS[3]}]:6170",
    "PADDLE_CURRENT_ENDPOINT": IPS[4],
    "FLAGS_fetch": f"http://{IPS[5]}/v1/model",
    "PADDLE_NODE_LABELS": f"{SHORT.upper()} {SHORT}-ib0 {SHORT}_gpu {USER}-data {USER.upper()}_DIR",
    "FLAGS_versions": "cuda " + " driver ".join(ORDINARY),
}
CLASSES = {"google tokens", "stripe tokens", "azure tokens", "npm tokens", "pypi tokens",
           "private-key tokens", "URL credentials", "random-looking strings",
           "secret values in text", "GPU UUIDs/serials", "IP addresses", "host name", "user name",
           "home folder", "working directory"}


def _uts_prefix() -> list[str]:
    if not shutil.which("unshare"):
        pytest.skip("needs unshare (util-linux) to give the doctor a host name of its own")
    for flags in (["-u"], ["-r", "-u"]):
        if subprocess.run(["unshare", *flags, "sh", "-c", f"hostname {HOST}"],
                          capture_output=True, timeout=30).returncode == 0:
            return ["unshare", *flags, "sh", "-c", f'hostname {HOST} && exec "$@"', "sh"]
    pytest.skip("this host forbids UTS namespaces: the host name cannot be planted")


def _run(tmp_path, *args: str, user: str = USER) -> subprocess.CompletedProcess:
    home = tmp_path / "home" / user
    work = tmp_path / "qzwork-proj"
    work.mkdir(parents=True, exist_ok=True)
    home.mkdir(parents=True, exist_ok=True)
    extra = {**SECRET_PLANTS, **IDENTITY_PLANTS, "HOME": str(home), "USER": user, "LOGNAME": user,
             "LD_LIBRARY_PATH": f"{home}/cuda/lib64", "PADDLE_LOG_DIR": f"{work}/log"}
    cmd = [*_uts_prefix(), sys.executable, "-m", "paddledoctor", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=doctor_env(extra=extra),
                          cwd=work, timeout=180)


def _identity(tmp_path) -> list[str]:
    return [SHORT, SHORT.upper(), USER, USER.upper(), str(tmp_path / "home" / USER),
            str(tmp_path / "qzwork-proj"), UUID_PREFIX, *IPS]


@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_report_leaks_no_plant_and_records_every_class(tmp_path, fmt):
    proc = _run(tmp_path, "report", "--quick", "--format", fmt)
    assert proc.returncode in (0, 1), proc.stderr
    plants = SECRETS + _identity(tmp_path)
    leaked = [s for s in plants if s in proc.stdout]
    print(f"report --format {fmt}: {len(plants)} plants, {len(leaked)} leaked")
    assert not leaked, leaked
    if fmt == "markdown":
        return
    doc = json.loads(proc.stdout)
    assert set(doc["redaction"]["removed"]) >= CLASSES, CLASSES - set(doc["redaction"]["removed"])
    assert doc["facts"]["host"]["env"]["FLAGS_versions"] == IDENTITY_PLANTS["FLAGS_versions"]


def test_report_control_without_redaction_shows_every_plant(tmp_path):
    proc = _run(tmp_path, "report", "--quick", "--format", "json", "--no-redact")
    missing = [s for s in SECRETS + _identity(tmp_path) if s not in proc.stdout]
    assert not missing, missing


def test_check_json_scrubs_secrets_and_identity_only_when_asked(tmp_path):
    plain = _run(tmp_path, "check", "--quick", "--json")
    shapes = [s for s in SECRETS if s in plain.stdout]
    print(f"check --json: {len(SECRETS)} secret plants, {len(shapes)} shown")
    assert not shapes, shapes
    doc = json.loads(plain.stdout)
    assert doc["redaction"]["scope"] == "secrets"
    assert SHORT in plain.stdout and IPS[0] in plain.stdout  # identity stays without --redact
    redacted = _run(tmp_path, "check", "--quick", "--json", "--redact")
    leaked = [s for s in SECRETS + _identity(tmp_path) if s in redacted.stdout]
    assert not leaked, leaked


def test_a_redacted_report_re_diagnoses_like_the_original_for_a_user_named_paddle(tmp_path):
    codes = {}
    for name, args in (("original", ["--no-redact"]), ("redacted", [])):
        out = tmp_path / f"{name}.md"
        proc = _run(tmp_path, "report", "--quick", "-o", str(out), *args, user="paddle")
        assert proc.returncode in (0, 1), proc.stderr
        again = _run(tmp_path, "check", "--from", str(out), "--json", user="paddle")
        doc = json.loads(again.stdout)
        codes[name] = sorted(f["code"] for f in doc["findings"])
    assert codes["original"] == codes["redacted"] and codes["original"], codes
    original, redacted = (load_facts(tmp_path / f"{n}.md")[3] for n in ("original", "redacted"))
    assert _keys(redacted["facts"], set()) == _keys(original["facts"], set())
    assert "paddle" in redacted["facts"]


@pytest.mark.parametrize("text", [
    GOOGLE, STRIPE, f"AccountKey={AZURE_KEY}", NPM, PYPI, PGP, f"https://bob:{URL_PASSWORD}@h/x",
    OPAQUE, f"BCE_SK={SK_VALUE}", f"hadoop.job.ugi=bob,{UGI_VALUE}",
])
def test_each_secret_shape_is_removed_from_text(text):
    r = Redactor(identity=False)
    out = r.text(f"before {text} after")
    assert out.startswith("before ") and out.endswith(" after") and r.hits, out
    for secret in SECRETS:
        assert secret not in out, (secret, out)


@pytest.mark.parametrize("name", ["BCE_SK", "PADDLE_HDFS_UGI", "hadoop.job.ugi", "AZURE_SAS"])
def test_names_ending_in_sk_or_ugi_are_secret(name):
    assert secret_name(name)


def test_ordinary_values_survive_and_keys_are_never_rewritten():
    r = Redactor(hostnames={"paddle"}, users={"paddle"}, identity=True)
    doc = {"paddle": {"version": "3.0.0", "cuda": "12.4.1"}, "nvml": {"driver": "550.54.14"},
           "sha256": ORDINARY[-1], "text": "cuDNN 9.1.0.70 TensorRT 10.0.1.6", "module": "paddle"}
    r.learn(doc)
    assert r.value(doc) == doc  # "paddle" is the report's own word, not this user's name here


def test_keys_are_kept_even_when_they_hold_a_name():
    """Only values are rewritten: a key is the report's structure, which `check --from` reads."""
    r = Redactor(users={USER}, hostnames={SHORT})
    out = r.value({"env": {f"FLAGS_{USER}_dir": f"/data/{USER}", f"{SHORT}_rank": SHORT}})
    assert out == {"env": {f"FLAGS_{USER}_dir": "/data/<user>", f"{SHORT}_rank": "<host>"}}


def test_addresses_in_endpoints_and_urls_not_versions():
    r = Redactor()
    assert r.text("10.1.2.3", "POD_IP") == "<ip-1>"
    assert r.text("10.1.2.3:6170,10.1.2.4:6170", "PADDLE_TRAINER_ENDPOINTS") == "<ip-1>:6170,<ip-2>:6170"
    assert r.text("[fd00::1]:6170", "PADDLE_MASTER") == "[<ip-3>]:6170"
    assert r.text("see http://10.1.2.9/x") == "see http://<ip-4>/x"
    assert r.text("driver 550.54.14 cudnn 9.1.0.70") == "driver 550.54.14 cudnn 9.1.0.70"
    assert re.fullmatch(r"<ip-\d>", r.text("10.1.2.3", "PADDLE_MASTER"))


def test_a_key_in_paddles_own_error_text_is_scrubbed_from_explain_json(tmp_path):
    """A real Paddle error line (the CPU build asked for a GPU) with a key pasted into it: the match
    carries the line, and `explain --json` prints it scrubbed."""
    from conftest import FIXTURES

    from paddledoctor.explain import explain_log

    lines = (FIXTURES / "logs" / "real_set_device_gpu_cpu_build.log").read_text().splitlines()
    lines[12] += f" (while fetching with key={GOOGLE})"
    log = tmp_path / "train.log"
    log.write_text("\n".join(lines) + "\n")
    assert GOOGLE in json.dumps(explain_log(log.read_text(), check=False, quick=True).to_json())
    proc = subprocess.run([sys.executable, "-m", "paddledoctor", "explain", str(log), "--json"],
                          capture_output=True, text=True, env=doctor_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    (match,) = json.loads(proc.stdout)["matches"]
    assert match["code"] == "PD101" and GOOGLE not in proc.stdout
    assert "<redacted google token>" in match["text"]
