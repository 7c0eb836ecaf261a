"""Real distributions from PyPI, installed the way ``pip install --no-deps --target DIR`` leaves them,
but only their ``*.dist-info`` folders (the stack probe reads nothing else): each wheel is downloaded
once with ``pip download --no-deps`` into the tests' cache folder, its dist-info extracted and the
wheel removed. Without PyPI the tests that need a distribution skip with the reason.

Three wheels are too large to download for their metadata (torch ~800 MB, the nvidia-nccl/-cudnn
wheels 200-700 MB): for those, :func:`pypi_metadata` asks pip for the metadata only (``pip install
--dry-run --no-deps --report``, which reads PyPI's PEP 658 ``.metadata`` file) and writes the
Name, Version and Requires-Dist it reports into a dist-info folder. Those folders are named
``*-pypi-metadata`` in the cache: real requirements, rebuilt headers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "paddledoctor-tests" / "stack"


def _skip(what: str, proc: subprocess.CompletedProcess | None = None, why: str = "") -> None:
    tail = (proc.stderr or "")[-300:] if proc is not None else why
    pytest.skip(f"{what} could not be had from PyPI (offline?): {tail}")


def dist_info(spec: str) -> Path:
    """The real ``*.dist-info`` folder of ``spec`` ("paddleocr==3.0.0"), cached."""
    name, _, version = spec.partition("==")
    key = f"{name}-{version}"
    done = CACHE / "dist-info" / key
    if done.is_dir() and any(done.glob("*.dist-info")):
        return next(done.glob("*.dist-info"))
    dl = CACHE / "dl" / key
    dl.mkdir(parents=True, exist_ok=True)
    wheels = list(dl.glob("*.whl"))
    if not wheels:
        try:
            proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps",
                                   "--only-binary=:all:", spec, "-d", str(dl)],
                                  capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            _skip(spec, why="pip download timed out")
        wheels = list(dl.glob("*.whl"))
        if proc.returncode or not wheels:
            _skip(spec, proc)
    tmp = done.with_name(key + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with zipfile.ZipFile(wheels[0]) as z:
        members = [n for n in z.namelist() if n.split("/", 1)[0].endswith(".dist-info")]
        z.extractall(tmp, members)
        version_file = "paddle/version/__init__.py"
        if version_file in z.namelist():  # Paddle's build literals, for the doctor's paddle probe
            z.extract(version_file, tmp)
    shutil.rmtree(done, ignore_errors=True)
    tmp.rename(done)
    for w in wheels:
        w.unlink()
    return next(done.glob("*.dist-info"))


def pypi_metadata(spec: str) -> Path:
    """A dist-info folder holding the Name, Version and Requires-Dist PyPI reports for ``spec``
    (metadata only: for wheels too large to download)."""
    name, _, version = spec.partition("==")
    done = CACHE / "dist-info" / f"{name}-{version}-pypi-metadata"
    meta = done / f"{name.replace('-', '_')}-{version}.dist-info"
    if (meta / "METADATA").is_file():
        return meta
    report = CACHE / "dl" / f"{name}-{version}.report.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--dry-run",
                               "--ignore-installed", "--no-deps", "--only-binary=:all:",
                               "--report", str(report), spec],
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        _skip(spec, why="pip install --dry-run timed out")
    if proc.returncode or not report.is_file():
        _skip(spec, proc)
    md = json.loads(report.read_text())["install"][0]["metadata"]
    lines = ["Metadata-Version: 2.1", f"Name: {md['name']}", f"Version: {md['version']}"]
    lines += [f"Requires-Dist: {r}" for r in md.get("requires_dist") or []]
    tmp = done.with_name(done.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / meta.name).mkdir(parents=True)
    (tmp / meta.name / "METADATA").write_text("\n".join(lines) + "\n\n")
    (tmp / meta.name / "INSTALLER").write_text("pip\n")
    shutil.rmtree(done, ignore_errors=True)
    tmp.rename(done)
    report.unlink()
    return meta


def venv_dist_info(name: str) -> Path:
    """The real dist-info of a distribution installed in the test interpreter (paddlepaddle 3.3.1,
    numpy, ...)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        d = distribution(name)
    except PackageNotFoundError:
        pytest.skip(f"{name} is not installed in the test interpreter")
    return Path(d._path)  # noqa: SLF001 - the folder itself is what the test copies


def site(tmp_path: Path, *folders: Path, installer: str | None = None) -> Path:
    """A site-packages folder in tmp_path holding copies of these dist-info folders (and a
    paddle/version/__init__.py where the cached wheel had one)."""
    target = tmp_path / "site-packages"
    target.mkdir(parents=True, exist_ok=True)
    for f in folders:
        shutil.copytree(f, target / f.name)
        if installer is not None:
            (target / f.name / "INSTALLER").write_text(installer + "\n")
        vf = f.parent / "paddle" / "version" / "__init__.py"
        if vf.is_file():
            (target / "paddle" / "version").mkdir(parents=True, exist_ok=True)
            shutil.copy(vf, target / "paddle" / "version" / "__init__.py")
            (target / "paddle" / "__init__.py").touch()
    return target
