"""Two Paddle distributions in one folder: the probe says whose files are on disk, by the hash each
RECORD lists for paddle/version/__init__.py (issue #12: deleting that lookup passed every test).

The folder is made from the real paddlepaddle 3.3.1 install of this venv: its .dist-info and its
version file, copied. The second distribution is paddlepaddle-gpu 3.3.1 as pip would leave it after
`pip install paddlepaddle-gpu` over the CPU one: the same dist-info files with the GPU wheel's
version file (cuda_version '12.6') and that file's hash in its RECORD (derived here, and said so)."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import shutil
from pathlib import Path

import pytest

from paddledoctor import doctor
from paddledoctor.probes import installed

VERSION_FILE = "paddle/version/__init__.py"


def _digest(raw: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).rstrip(b"=").decode()


@pytest.fixture
def two_installs(tmp_path, monkeypatch):
    dist = importlib.metadata.distribution("paddlepaddle")
    real_info = Path(dist._path)  # the real paddlepaddle-3.3.1.dist-info
    cpu_file = Path(dist.locate_file(VERSION_FILE)).read_bytes()
    line = b"cuda_version     = 'False'"
    assert line in cpu_file
    gpu_file = cpu_file.replace(line, b"cuda_version     = '12.6'", 1)

    site = tmp_path / "site-packages"
    shutil.copytree(real_info, site / real_info.name)
    gpu_info = site / real_info.name.replace("paddlepaddle-", "paddlepaddle_gpu-")
    shutil.copytree(real_info, gpu_info)
    record = (gpu_info / "RECORD").read_text().splitlines()
    assert any(line.startswith(VERSION_FILE + ",") for line in record)
    (gpu_info / "RECORD").write_text("\n".join(
        f"{VERSION_FILE},{_digest(gpu_file)},{len(gpu_file)}" if line.startswith(VERSION_FILE + ",")
        else line for line in record) + "\n")
    meta = (gpu_info / "METADATA").read_text().replace("Name: paddlepaddle\n",
                                                      "Name: paddlepaddle-gpu\n", 1)
    (gpu_info / "METADATA").write_text(meta)
    (site / "paddle" / "version").mkdir(parents=True)
    monkeypatch.setattr(installed, "_site_dirs", lambda: [str(site)])

    def files_of(which: str) -> None:
        (site / VERSION_FILE).write_bytes(cpu_file if which == "cpu" else gpu_file)
    return files_of


def _owners() -> dict:
    return {p["name"]: p.get("owns_files_on_disk")
            for p in installed.probe_distributions()["paddle_providers"]}


def test_the_files_on_disk_are_said_to_be_the_last_installed(two_installs):
    two_installs("cpu")
    assert _owners() == {"paddlepaddle": True, "paddlepaddle-gpu": False}
    two_installs("gpu")
    assert _owners() == {"paddlepaddle": False, "paddlepaddle-gpu": True}


def test_pd102_names_whose_files_are_there(two_installs):
    two_installs("gpu")
    facts = {"distributions": installed.probe_distributions(), "host": {}}
    found = {f.code: f for f in doctor.diagnose(facts, mode="quick").findings}
    assert found["PD102"].evidence["files_on_disk_belong_to"] == ["paddlepaddle-gpu 3.3.1"]
