"""The whole doctor on the portable paths, forced on Linux: a real `paddledoctor check` (the NVML
child on the stand-in driver, the paddle child importing the real CPU paddle) in a process where
isolate has what Windows has (no pass_fds, no selectable pipes, no waitid, no killpg, no
PR_SET_PDEATHSIG), and where subprocess refuses pass_fds as CPython does on Windows
(``assert not pass_fds, "pass_fds not supported on Windows."`` in its ``_execute_child``). Before
the portable channel, that AssertionError escaped and every command exited 3."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import doctor_env, nvml_machine

WINDOWS_LIKE = """\
# Test shim (sitecustomize), in the doctor's process only: isolate forced onto Windows' means, and
# Popen refusing pass_fds as it does on Windows. Every Popen is logged.
import os, subprocess
if os.environ.pop("PADDLEDOCTOR_TEST_WINDOWS_LIKE", None):
    _log = os.environ.pop("PADDLEDOCTOR_TEST_POPEN_LOG")
    _Popen = subprocess.Popen

    class WindowsLikePopen(_Popen):
        def __init__(self, args, *rest, pass_fds=(), **kwargs):
            with open(_log, "a") as f:
                f.write(f"pass_fds={{list(pass_fds)}}\\n")
            assert not pass_fds, "pass_fds not supported on Windows."
            super().__init__(args, *rest, **kwargs)

    subprocess.Popen = WindowsLikePopen
    from paddledoctor.probes import isolate
    for name in ("_HAVE_PASS_FDS", "_SELECT_PIPES", "_HAVE_WAITID", "_HAVE_KILLPG",
                 "_USE_PDEATHSIG"):
        setattr(isolate, name, False)
"""


def test_check_runs_its_children_on_the_windows_like_channel(tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(WINDOWS_LIKE.format())
    log = tmp_path / "popen.log"
    env = doctor_env(nvml_machine(), [shim], {"PADDLEDOCTOR_TEST_WINDOWS_LIKE": "1",
                                              "PADDLEDOCTOR_TEST_POPEN_LOG": str(log)})
    proc = subprocess.run([sys.executable, "-m", "paddledoctor", "check", "--json",
                           "--timeout", "300"], capture_output=True, text=True, env=env,
                          timeout=600)

    assert proc.returncode in (0, 1), proc.stderr  # 3: the doctor itself failed
    facts = json.loads(proc.stdout)["facts"]
    assert facts["nvml"]["status"] == "ok" and len(facts["nvml"]["gpus"]) == 2
    assert facts["runtime"]["import"]["ok"] is True, facts["runtime"]
    popens = log.read_text().splitlines()
    assert len(popens) >= 2 and set(popens) == {"pass_fds=[]"}, popens  # both children, no pass_fds
