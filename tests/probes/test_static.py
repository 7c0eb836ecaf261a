"""The static layer: what is on disk, read without importing (or executing any of) paddle."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path


from conftest import BROKEN_PADDLE, codes_of, run_json
from paddledoctor.model import Unavailable
from paddledoctor.probes import installed

TRAPPED_VERSION_FILE = BROKEN_PADDLE / "paddle" / "version" / "__init__.py"
THIS_PYTHON = f"cp{sys.version_info.major}{sys.version_info.minor}"


def _real_version_file() -> Path:
    dist = importlib.metadata.distribution("paddlepaddle")
    return Path(dist.locate_file("paddle/version/__init__.py"))


def test_reads_the_real_cpu_build():
    literals = installed.read_version_file(_real_version_file())

    assert literals["full_version"] == importlib.metadata.version("paddlepaddle")
    assert literals["cuda_version"] == "False"
    assert literals["cudnn_version"] == "False"
    assert literals["compiled_cuda_archs"] == []
    assert literals["with_pip_cuda_libraries"] in ("ON", "OFF")
    assert "show" not in literals and "inspect" not in literals  # functions, imports: not literals


def test_never_executes_the_version_file(tmp_path, monkeypatch):
    """The broken fake's version file ends in code that writes a marker and raises SystemExit."""
    path = TRAPPED_VERSION_FILE
    marker = tmp_path / "executed"
    monkeypatch.setenv("FAKE_PADDLE_VERSION_EXECUTED", str(marker))
    assert "raise SystemExit" in path.read_text()

    literals = installed.read_version_file(path)

    assert not marker.exists()
    assert literals["full_version"] == "3.3.1"
    assert literals["cuda_version"] == "False"
    assert literals["compiled_cuda_archs"] == []
    assert set(literals) >= {"major", "minor", "patch", "commit", "with_mkl"}


def test_probe_paddle_package_reads_a_trapped_version_file_without_running_it(tmp_path,
                                                                               monkeypatch):
    marker = tmp_path / "executed"
    monkeypatch.setenv("FAKE_PADDLE_VERSION_EXECUTED", str(marker))
    monkeypatch.chdir(BROKEN_PADDLE)  # the current directory comes first

    pkg = installed.probe_paddle_package()

    assert pkg["location"] == str(BROKEN_PADDLE / "paddle")
    assert pkg["version_file"]["full_version"] == "3.3.1"
    assert not marker.exists()


def test_malformed_version_file_is_unavailable_with_the_reason(tmp_path):
    path = tmp_path / "__init__.py"
    path.write_text("full_version = '3.3.1'\ncuda_version = 'False\n")

    result = installed.read_version_file(path)

    assert isinstance(result, Unavailable)
    assert result.reason.startswith(f"cannot parse {path}")


def test_binary_garbage_is_unavailable(tmp_path):
    path = tmp_path / "__init__.py"
    path.write_bytes(b"full_version = '3.3.1'\n\x00\xff\xfe")

    result = installed.read_version_file(path)

    assert isinstance(result, Unavailable) and "cannot parse" in result.reason


def test_huge_version_file_is_unavailable_unread(tmp_path):
    path = tmp_path / "__init__.py"
    path.write_text("full_version = '3.3.1'\n" + "#" * (2 << 20) + "\n")

    result = installed.read_version_file(path)

    assert isinstance(result, Unavailable)
    assert "too large" in result.reason and str(path.stat().st_size) in result.reason


def test_missing_version_file_and_missing_literal_are_unavailable(tmp_path):
    missing = installed.read_version_file(tmp_path / "nope.py")
    assert isinstance(missing, Unavailable) and missing.reason.startswith("cannot read ")

    path = tmp_path / "__init__.py"
    path.write_text("cuda_version = 'False'\nfull_version = compute()\n")
    no_version = installed.read_version_file(path)
    assert isinstance(no_version, Unavailable) and "no full_version literal" in no_version.reason


def test_finds_the_installed_distribution_and_its_wheel_tag():
    dists = installed.probe_distributions()

    providers = [p for p in dists["paddle_providers"] if p["name"] == "paddlepaddle"]
    assert len(providers) == 1, dists["paddle_providers"]
    [p] = providers
    assert p["version"] == importlib.metadata.version("paddlepaddle")
    assert any(tag.startswith(f"{THIS_PYTHON}-{THIS_PYTHON}-") for tag in p["wheel_tags"])
    assert p["metadata"].endswith(".dist-info") and os.path.isdir(p["metadata"])
    assert "numpy" in dists["packages"]


def _local_paddle(tmp_path: Path) -> Path:
    (tmp_path / "paddle").mkdir()
    (tmp_path / "paddle" / "__init__.py").write_text("raise SystemExit('the local paddle ran')\n")
    return tmp_path / "paddle"


def test_a_local_paddle_folder_shadows_the_install(tmp_path, monkeypatch):
    local = _local_paddle(tmp_path)
    monkeypatch.chdir(tmp_path)

    pkg = installed.probe_paddle_package()

    assert pkg["found"] and pkg["is_package"]
    assert pkg["location"] == str(local)
    assert pkg["origin"] == str(local / "__init__.py")
    assert isinstance(pkg["version_file"], Unavailable)


def test_the_cli_warns_about_the_shadowing_folder(tmp_path):
    local = _local_paddle(tmp_path)

    proc, doc = run_json("check", "--quick", cwd=tmp_path)

    assert "Traceback" not in proc.stderr
    pd107 = [f for f in doc["findings"] if f["code"] == "PD107"]
    assert pd107, sorted(codes_of(doc))
    assert pd107[0]["evidence"]["imports_from"] == str(local)
    assert str(local / "__init__.py") in pd107[0]["title"]
    assert "PD108" in codes_of(doc)  # and it has no build information to read
