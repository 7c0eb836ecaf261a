"""Shared test helpers.

GPUs are simulated at the C boundary only: ``tests/fakes/nvml/libnvidia-ml.c`` is built with gcc at
test time into a stand-in ``libnvidia-ml.so.1`` and put first on LD_LIBRARY_PATH of the doctor's
process, so the real nvidia-ml-py loads it and the doctor's NVML probe runs unchanged. Paddle is the real CPU build from PyPI; a fake ``paddle`` (tests/fakes/paddle_*) is
put on PYTHONPATH only by the tests that prove the isolation against a crashing or hanging import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FAKES = TESTS / "fakes"
FAKE_NVML_DIR = FAKES / "nvml"
sys.path.insert(0, str(FAKE_NVML_DIR))
import build as fake_nvml_build  # noqa: E402  (tests/fakes/nvml/build.py)
FIXTURES = TESTS / "fixtures"
# Reports of GPU machines made by tests/fixtures/synthesized/make_fixtures.py (not recordings).
SYNTHESIZED = FIXTURES / "synthesized"
# Reports written by released doctor versions, kept as they were written (check --from must read them).
REGRESSION = FIXTURES / "regression"

NO_DRIVER = {"init_error": "LibraryNotFound"}

# The binaries probe caches per-file facts in the user's cache folder: the suite (and every doctor
# it starts, which inherits the environment) uses a folder of its own, removed at the end.
if "PADDLEDOCTOR_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile
    _CACHE = tempfile.mkdtemp(prefix="paddledoctor-test-cache-")
    os.environ["PADDLEDOCTOR_CACHE_DIR"] = _CACHE
    atexit.register(shutil.rmtree, _CACHE, True)

# Hermetic: no paddledoctor.toml or [tool.paddledoctor] above the checkout (or anywhere a test runs)
# changes a test's requirements. The config tests that exercise the search remove this themselves.
os.environ["PADDLEDOCTOR_CONFIG"] = "none"
# Hermetic: the host probe measures the shared memory of the checkout's filesystem, not the machine's
# /dev/shm (64 MiB in a default Docker container, where every real run would add PD402). PD402 is
# tested on facts with a small shm, and on the real probe in tests/checks/test_check_wrong_cases.py.
os.environ.setdefault("PADDLEDOCTOR_SHM_PATH", str(ROOT))
# Hermetic: the suite does not depend on the caller's PATH (tools/hermetic.sh path). The test
# interpreter's bin comes first, as an activated venv puts it, so the `python`, `pip` and
# `paddledoctor` that the doctor finds on PATH (PD107, the fix commands) are this interpreter's.
_BIN = os.path.dirname(sys.executable)
os.environ["PATH"] = os.pathsep.join(
    [_BIN] + [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != _BIN])

# Every code the suite produces, and from what input; every report document against the schema
# (tests/codes_seen.py: a plugin of the tests, nothing in paddledoctor/).
import codes_seen  # noqa: E402  (tests/codes_seen.py)

codes_seen.install()


def pytest_addoption(parser):
    parser.addoption("--codes-seen", action="store_true",
                     help="print the last session's record of the codes produced from real input "
                          "against paddledoctor/codes.py and the allowlist, then exit")


def pytest_configure(config):
    config.pluginmanager.register(codes_seen.Plugin(config), "paddledoctor-codes-seen")


# One fake paddle package whose import crashes, hangs, raises or exits as FAKE_PADDLE_IMPORT says.
BROKEN_PADDLE = FAKES / "paddle_broken"
BROKEN_IMPORTS = ("segv", "sigill", "hang", "raise", "exit")


def broken_paddle(how: str) -> tuple[Path, dict]:
    """The PYTHONPATH entry and environment of a paddle whose import goes wrong that way."""
    assert how in BROKEN_IMPORTS, how
    return BROKEN_PADDLE, {"FAKE_PADDLE_IMPORT": how}


def gpu(name="NVIDIA A100-SXM4-80GB", cc=(8, 0), **extra) -> dict:
    return {"name": name, "cc": list(cc), **extra}


def nvml_machine(driver="550.54.14", cuda=12040, gpus=None, **extra) -> dict:
    """A scenario for the fake NVML: a driver and its GPUs (default: two A100s)."""
    return {"driver_version": driver, "cuda_driver_version": cuda,
            "gpus": gpus if gpus is not None else [gpu(), gpu()], **extra}


def doctor_env(nvml: dict | None = None, pythonpath: list[Path] | None = None,
               extra: dict | None = None) -> dict:
    env = fake_nvml_build.environment(nvml if nvml is not None else NO_DRIVER)
    env.pop("CUDA_VISIBLE_DEVICES", None)
    paths = [str(p) for p in (pythonpath or [])]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["NO_COLOR"] = "1"
    standin = env.get("LD_LIBRARY_PATH")
    env.update(extra or {})
    if standin and extra and "LD_LIBRARY_PATH" in extra:
        # a test's own LD_LIBRARY_PATH comes after the stand-in driver, as a real driver's
        # libraries are found through the loader cache whatever the user's path says
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in (standin, extra["LD_LIBRARY_PATH"]) if p)
    return env


def sigint_as_at_a_terminal() -> None:
    """preexec_fn for a doctor that a test will Ctrl-C: SIGINT back to its default, as at a
    terminal. A shell that runs the tests in the background (`cmd &`, nohup, some CI runners)
    starts them with SIGINT ignored, which the doctor would inherit, and then no Ctrl-C arrives."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(*args: str, nvml: dict | None = None, pythonpath: list[Path] | None = None,
            env: dict | None = None, timeout: float = 120, cwd: Path | None = None,
            python: str | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m paddledoctor ARGS`` as a user would, on a simulated NVML machine (with this
    interpreter unless ``python`` names another: never the ``python`` of PATH)."""
    return subprocess.run([python or sys.executable, "-m", "paddledoctor", *args], capture_output=True,
                          text=True, timeout=timeout, env=doctor_env(nvml, pythonpath, env),
                          cwd=str(cwd) if cwd else None)


def run_json(*args: str, **kwargs) -> tuple[subprocess.CompletedProcess, dict]:
    proc = run_cli(*args, "--json", **kwargs)
    return proc, json.loads(proc.stdout)


def codes_of(doc_or_report) -> set[str]:
    if isinstance(doc_or_report, dict):
        return {f["code"] for f in doc_or_report["findings"]}
    return {f.code for f in doc_or_report.findings}


# What `import paddledoctor` and its commands need (pyproject's dependencies and theirs).
DOCTOR_IMPORTS = ("click", "psutil", "rich", "packaging", "pynvml", "markdown_it", "mdurl",
                  "pygments", "tomli", "typing_extensions")


@pytest.fixture(scope="session")
def python_without_paddle(tmp_path_factory) -> str:
    """A real virtual environment with the doctor's dependencies only (linked from this one) and
    the doctor from this checkout: an interpreter where no Paddle is installed at all."""
    import importlib.util

    venv = tmp_path_factory.mktemp("venv-without-paddle")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120, capture_output=True)
    site = next(venv.glob("lib/python*/site-packages"))
    for name in DOCTOR_IMPORTS:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            continue
        src = Path(spec.origin).parent if spec.submodule_search_locations else Path(spec.origin)
        (site / src.name).symlink_to(src)
    (site / "paddledoctor-checkout.pth").write_text(str(ROOT) + "\n")
    python = venv / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import paddle"], capture_output=True,
                          timeout=60).returncode != 0, "paddle must not be importable there"
    return str(python)


@pytest.fixture
def fake_nvml(monkeypatch):
    """In-process: point the NVML child probe at the fake NVML with a scenario."""
    def use(scenario: dict) -> None:
        env = fake_nvml_build.environment(scenario)
        for key in ("FAKE_NVML_SPEC", "LD_LIBRARY_PATH"):
            if key in env:
                monkeypatch.setenv(key, env[key])
            else:
                monkeypatch.delenv(key, raising=False)
    use(NO_DRIVER)
    return use
