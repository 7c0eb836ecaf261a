"""Hand-written mutants of the product, kept as data so they can be re-run.

Each mutant is one small, meaningful change a reviewer made (issue #12): a file, an exact text that
occurs once in it, its replacement, and the tests that must kill it. ``python tools/mutants.py``
applies each mutant in turn, runs its tests in a child pytest, restores the file byte for byte (and
its mtime, so the compiled original stays valid), and prints one line per mutant:

    killed    bench-bits-always-identical   (tests/bench/test_bench_wrong_cases.py)
    SURVIVED  pd206-no-windows-exemption    (tests/checks)

Exit status: 0 when every mutant is killed, 1 when one survived, 2 when a mutant no longer applies
(its text is not in the file exactly once: update the data when the code moves).

    python tools/mutants.py                 # all
    python tools/mutants.py pd401 redact    # those whose name contains a word
    python tools/mutants.py --list
    python tools/mutants.py --all-tests NAME  # run the whole suite against one mutant

Standard library only. The file is restored in ``finally`` (Ctrl-C, SIGTERM and SIGHUP included).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str          # relative to the checkout
    old: str           # must occur exactly once in the file
    new: str
    tests: tuple       # pytest arguments (paths or node ids) that must fail under the mutant
    why: str = ""      # what the mutant breaks, in a user's terms
    extra: dict = field(default_factory=dict)


M = Mutant
MUTANTS = [
    # -- the 16 that survived the whole suite in the review of issue #12 --
    M("bench-bits-always-identical", "paddledoctor/bench/children/bench_paddle.py",
      "    if np.array_equal(a.reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8)):\n",
      "    if True:\n",
      ("tests/bench/test_bench_wrong_cases.py",),
      "the bench's bit comparison always answers 'identical'"),
    M("fleet-all-reduce-never-judged", "paddledoctor/checks/fleet.py",
      '        if ar.get("ok") is not False:\n            continue',
      "        continue",
      ("tests/fleet/test_fleet_wrong_cases.py",),
      "a rank whose all-reduce sum is wrong passes"),
    M("pd100-deleted", "paddledoctor/checks/paddle.py",
      '    yield finding("PD100", evidence=',
      '    return\n    yield finding("PD100", evidence=',
      ("tests/checks/test_check_wrong_cases.py",),
      "a machine without Paddle is said to be able to train"),
    M("pd307-deleted", "paddledoctor/checks/gpu.py",
      '        yield finding("PD307", f"NVML could not start: {kind}: {nvml.get(\'error\')}", evidence,',
      '        return\n        yield finding("PD307", f"NVML could not start: {kind}: {nvml.get(\'error\')}", evidence,',
      ("tests/checks/test_check_wrong_cases.py",),
      "NVML failing to start (NoPermission, ...) says nothing"),
    M("pd401-no-x86-guard", "paddledoctor/checks/host.py",
      'machine not in ("x86_64", "amd64") or ',
      "",
      ("tests/checks/test_check_wrong_cases.py",),
      "an ARM host (no 'avx' flag at all) gets a false ERROR"),
    M("pd202-no-warning-branch", "paddledoctor/checks/archs.py",
      "        elif recorded and gpu not in recorded:",
      "        elif False:",
      ("tests/checks", "tests/binaries"),
      "a GPU running a lesser arch's SASS is not warned about"),
    M("pd206-no-windows-exemption", "paddledoctor/checks/cuda.py",
      "F.nvml_gpu_count(facts) < 2 or F.is_windows(facts):",
      "F.nvml_gpu_count(facts) < 2:",
      ("tests/checks/test_check_wrong_cases.py",),
      "a Windows machine with several GPUs is told to install NCCL (none exists for Windows)"),
    M("pd807-ignores-inf", "paddledoctor/checks/checkpoint.py",
      'bad = [t for t in f.get("tensors") or [] if t.get("nan") or t.get("inf")]',
      'bad = [t for t in f.get("tensors") or [] if t.get("nan")]',
      ("tests/inspect/test_inspect_wrong_cases.py",),
      "a checkpoint holding Inf is said to be fine"),
    M("redact-github-token-deleted", "paddledoctor/redaction.py",
      '    ("github", re.compile(r"\\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})\\b")),\n',
      "",
      ("tests/report/test_redaction_wrong_cases.py",),
      "a GitHub token in a path or error message goes into a public issue"),
    M("redact-pem-deleted", "paddledoctor/redaction.py",
      '    ("private-key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?"\n'
      '                               r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)")),\n',
      "",
      ("tests/report/test_redaction_wrong_cases.py",),
      "a PEM private key goes into a public issue"),
    M("redact-google-token-deleted", "paddledoctor/redaction.py",
      '    ("google", re.compile(r"\\bAIza[0-9A-Za-z_-]{30,}" + _END)),\n',
      "",
      ("tests/report/test_redaction_plants.py",),
      "a Google API key in a flag goes into a public issue"),
    M("redact-keys-rewritten", "paddledoctor/redaction.py",
      "return {k: self.value(v, str(k),",
      "return {self.text(str(k)): self.value(v, str(k),",
      ("tests/report/test_redaction_plants.py",),
      "a key holding a name is rewritten, and the redacted report no longer reads as the original"),
    M("redact-fqdn-short-name-kept", "paddledoctor/redaction.py",
      '            names["hostnames"].add(host.split(".")[0])\n',
      "",
      ("tests/report/test_redaction_wrong_cases.py",),
      "node7 of node7.cluster.example.com is left in the report"),
    M("explain-no-module-paddle-too-broad", "paddledoctor/knowledge/errors.py",
      "r\"No module named '?paddle'?(?![._\\w])\"",
      "r\"No module named '?paddle'?\"",
      ("tests/explain/test_explain_wrong_cases.py",),
      "'No module named paddleocr' (or paddle.fluid) is explained as 'Paddle is not installed'"),
    M("cgroup-memory-limit-never-read", "paddledoctor/probes/host.py",
      "    limit = _cgroup_memory_limit()\n",
      "    limit = None\n",
      ("tests/checks/test_check_wrong_cases.py",),
      "a container's memory limit is ignored: the host's memory is judged instead"),
    M("live-owner-lookup-deleted", "paddledoctor/probes/installed.py",
      "    if len(providers) > 1:\n        _mark_live_owner(providers)\n",
      "",
      ("tests/probes/test_live_owner.py",),
      "with two Paddle distributions installed, whose files are on disk is not said"),
    M("inspect-eval-rule-loosened", "paddledoctor/inspect/safepickle.py",
      'if (len(args) == 2 and args[0] == "data" and isinstance(args[1], dict)\n'
      '            and set(args[1]) == {"data"}',
      'if (len(args) == 2 and isinstance(args[1], dict)\n'
      '            and "data" in args[1]',
      ("tests/inspect/test_inspect_wrong_cases.py",),
      "eval of any expression is taken for Paddle's tensor record"),
    M("size-g-is-gb", "paddledoctor/sizes.py",
      '"g": 1 << 30,',
      '"g": 1000 ** 3,',
      ("tests/test_sizes.py", "tests/preflight/test_preflight_config_cli.py"),
      "min-free-disk = '100g' means 100 GB, not the 100 GiB that df -h prints and bench --size reads"),
    # -- issue #13, items 1-3: stop signals, the children's loop, portable paths (docs/reliability.md)
    M("stop-sigterm-not-handled", "paddledoctor/stopping.py",
      'NAMES = ("SIGINT", "SIGTERM", "SIGHUP")', 'NAMES = ("SIGINT", "SIGHUP")',
      ("tests/probes/test_signals.py", "-k",
       "(stop_signal and command0 and SIGTERM) or bench_stopped"),
      "SIGTERM kills the doctor and leaves its hung paddle child and the bench's folder"),
    M("stop-sighup-not-handled", "paddledoctor/stopping.py",
      'NAMES = ("SIGINT", "SIGTERM", "SIGHUP")', 'NAMES = ("SIGINT", "SIGTERM")',
      ("tests/probes/test_signals.py", "-k", "stop_signal and command0 and SIGHUP"),
      "closing the SSH session leaves the children running"),
    M("stop-ignored-sighup-taken-over", "paddledoctor/stopping.py",
      "            if current == signal.SIG_IGN or current is None:\n                continue\n",
      "",
      ("tests/probes/test_signals.py", "-k", "stays_ignored"),
      "under nohup the doctor dies of the hang-up it was told to ignore"),
    M("stop-library-unguarded", "paddledoctor/stopping.py",
      "        with guard(only_defaults=True):\n            yield\n", "        yield\n",
      ("tests/probes/test_signals.py", "-k", "library"),
      "check() or bench_model() in a program stopped by SIGTERM leaves a grandchild, the folder"),
    M("stop-library-survives-the-signal", "paddledoctor/stopping.py",
      "    if signum == signal.SIGINT:\n        return  # a KeyboardInterrupt",
      "    if True:\n        return  # a KeyboardInterrupt",
      ("tests/probes/test_signals.py", "-k", "library_caller"),
      "a program stopped by SIGTERM inside check() gets a traceback instead of ending by SIGTERM"),
    M("kill-the-child-not-its-group", "paddledoctor/probes/isolate.py",
      "os.killpg(self.proc.pid, signal.SIGKILL)", "os.kill(self.proc.pid, signal.SIGKILL)",
      ("tests/probes/test_signals.py", "-k", "stop_signal and command0 and (SIGTERM or SIGHUP)"),
      "what the hung paddle started outlives a stopped doctor"),
    M("bench-folder-kept-on-stop", "paddledoctor/bench/runner.py",
      "(isolate kills their group)\n        shutil.rmtree(temp, ignore_errors=True)",
      "(isolate kills their group)\n        pass",
      ("tests/probes/test_signals.py", "-k", "bench_stopped and SIGTERM"),
      "bench under SIGTERM leaves its checkpoints in --dir"),
    M("fleet-markers-kept-on-stop", "paddledoctor/fleet/rank.py",
      "        remove_markers(child.wait(5))\n", "        child.wait(5)\n",
      ("tests/fleet/test_fleet_signals.py", "-k", "marker_is_in"),
      "a fleet rank stopped by the launcher leaves its marker in the shared --dir"),
    M("fleet-workdir-kept-on-stop", "paddledoctor/fleet/rank.py",
      "        remove_markers(child.wait(5))\n        shutil.rmtree(workdir, ignore_errors=True)\n",
      "        remove_markers(child.wait(5))\n",
      ("tests/fleet/test_fleet_signals.py", "-k", "rank_stopped and SIGTERM"),
      "a stopped fleet rank leaves its work folder in TMPDIR"),
    M("no-pdeathsig", "paddledoctor/probes/children/_start.py",
      "libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)", "pass",
      ("tests/probes/test_signals.py", "-k", "sigkill and pdeathsig"),
      "a child wedged in native code outlives a doctor killed with SIGKILL"),
    M("no-lifeline-watchdog", "paddledoctor/probes/children/_start.py",
      '    threading.Thread(target=watch, name="paddledoctor-lifeline", daemon=True).start()',
      "    pass",
      ("tests/probes/test_signals.py", "-k", "sigkill and watchdog"),
      "on macOS and Windows the children outlive a doctor killed with SIGKILL"),
    M("loop-drains-only-the-waited-child", "paddledoctor/probes/isolate.py",
      '        _LOOP.add(self)\n\n    # -- the caller\'s side -'
      + "-" * 67 + '\n    def wait(self, timeout: float | None = None) -> ChildResult:\n',
      '        self._pending = True\n\n'
      '    def wait(self, timeout: float | None = None) -> ChildResult:\n'
      '        if getattr(self, "_pending", False):  # drained only once waited on\n'
      '            self._pending = False\n            _LOOP.add(self)\n',
      ("tests/probes/test_isolate.py", "-k", "more_than_a_pipe or many_children"),
      "a child writing more than a pipe holds while another is waited on is taken for a hang"),
    M("deadline-judged-at-the-look", "paddledoctor/probes/isolate.py",
      "        if self.ended_at is None and self._exited():\n",
      "        if self.ended_at is None and now >= self.deadline:\n"
      "            self.result.timed_out = True\n            with self._lock:\n"
      "                self._kill_group()\n            self.ended_at = now\n"
      "        if self.ended_at is None and self._exited():\n",
      ("tests/probes/test_isolate.py", "-k", "last_interval"),
      "a child that ended in the loop's last interval is reported as timed out"),
    M("pass-fds-on-windows", "paddledoctor/probes/isolate.py",
      "    if _HAVE_PASS_FDS:\n        channel", "    if True:\n        channel",
      ("tests/probes/test_portable_cli.py",),
      "every check on Windows exits 3 (AssertionError: pass_fds not supported on Windows.)"),
    M("channel-not-inherited", "paddledoctor/probes/isolate.py",
      "        os.set_inheritable(write_fd, True)\n", "",
      ("tests/probes/test_isolate_portable.py", "-k", "no-pass_fds and clean_child"),
      "without pass_fds the child cannot write its events"),
    M("select-on-windows-pipes", "paddledoctor/probes/isolate.py",
      "source = _SelectSource() if _SELECT_PIPES else _ThreadSource()", "source = _SelectSource()",
      ("tests/probes/test_isolate_portable.py", "-k", "forced_paths and no-select"),
      "on Windows the loop selects on pipes, which its select() refuses"),
    M("macos-group-not-killed-after-exit", "paddledoctor/probes/isolate.py",
      "        if _HAVE_KILLPG:  # POSIX without waitid",
      "        if False:  # POSIX without waitid",
      ("tests/probes/test_isolate_portable.py", "-k", "no-waitid and helper_left"),
      "on macOS before Python 3.13 a helper outlives a child that ended well"),
    M("windows-tree-not-killed", "paddledoctor/probes/isolate.py",
      "            _kill_tree(self.proc.pid if running else None, self._tree)\n", "            pass\n",
      ("tests/probes/test_isolate_portable.py", "-k", "no-killpg and (helper_left or timeout_kills)"),
      "on Windows what a child started outlives its deadline"),
    M("bench-fadvise-unconditional", "paddledoctor/bench/children/bench_io.py",
      '        if hasattr(os, "posix_fadvise"):\n            os.posix_fadvise',
      '        if True:\n            os.posix_fadvise',
      ("tests/bench/test_bench_portable.py", "-k", "without_posix_fadvise"),
      "bench crashes on macOS and Windows"),
    M("bench-memory-from-proc", "paddledoctor/bench/runner.py",
      '        import psutil\n        vm = psutil.virtual_memory()\n'
      '        out["available"], out["total"] = int(vm.available), int(vm.total)',
      '        info = dict(line.split(":", 1) for line in open("/proc/meminfo"))\n'
      '        out["available"] = int(info["MemAvailable"].split()[0]) * 1024\n'
      '        out["total"] = int(info["MemTotal"].split()[0]) * 1024',
      ("tests/bench/test_bench_portable.py", "-k", "psutil"),
      "bench never refuses a --size that does not fit where there is no /proc/meminfo"),
    M("paths-judged-with-the-hosts-rules", "paddledoctor/checks/facts.py",
      "    return ntpath if is_windows(facts) else posixpath", "    import os\n    return os.path",
      ("tests/checks/test_portable_judging.py",),
      "a Windows report re-diagnosed on Linux gets a false PD107"),
    M("unknown-cpu-flags-are-no-avx", "paddledoctor/checks/host.py",
      '    if not flags:  # not read (macOS, Windows, no /proc/cpuinfo): unknown, which is not "no AVX"\n'
      '        simd = "CPU flags unknown"\n    else:\n'
      '        simd = "/".join(n.upper() for n in ("avx", "avx2", "avx512f") if flags.get(n)) or "no AVX"',
      '    flags = flags or {}\n'
      '    simd = "/".join(n.upper() for n in ("avx", "avx2", "avx512f") if flags.get(n)) or "no AVX"',
      ("tests/checks/test_portable_judging.py", "-k", "cpu_flags"),
      "a Mac's summary says '(no AVX)'"),
    M("busy-gpu-ignores-memory-used", "paddledoctor/checks/gpu.py",
      '        unnamed = max(0, used - sum(p["used_memory"] for p in named)) if used is not None else 0',
      "        unnamed = 0",
      ("tests/acceptance/test_check_cli.py", "-k", "full_from_another_container"),
      "a GPU almost full from another container passes"),
    # -- more of the same kind, written while killing the above --
    M("pd807-ignores-nan", "paddledoctor/checks/checkpoint.py",
      'bad = [t for t in f.get("tensors") or [] if t.get("nan") or t.get("inf")]',
      'bad = [t for t in f.get("tensors") or [] if t.get("inf")]',
      ("tests/inspect/test_inspect_wrong_cases.py",),
      "a checkpoint holding NaN is said to be fine"),
    M("bench-resume-never-judged", "paddledoctor/checks/bench.py",
      '    if r.get("bitwise") is False:',
      '    if False:',
      ("tests/bench/test_bench_wrong_cases.py",),
      "a resume that does not restore the state passes"),
    M("pd307-query-failed-deleted", "paddledoctor/checks/gpu.py",
      '            yield finding("PD307", f"{label}: NVML query failed:',
      '            continue\n            yield finding("PD307", f"{label}: NVML query failed:',
      ("tests/checks/test_check_wrong_cases.py",),
      "a GPU whose NVML queries fail is passed over in silence"),
    M("check-crash-is-a-warning", "paddledoctor/checks/__init__.py",
      'findings.append(finding("PD002",',
      'findings.append(finding("PD001",',
      ("tests/checks/test_model.py",),
      "a check that raises lets a pre-flight pass a machine it could not judge"),
    M("from-ignores-the-mode", "paddledoctor/doctor.py",
      "    mode, areas = document_mode(doc)\n",
      "    mode, areas = \"from\", None\n",
      ("tests/checks/test_from_modes.py",),
      "check --from bench.json judges a bench document as a machine (false PD100)"),
]


def _run_tests(tests, timeout: float) -> "tuple[int, str]":
    # PYTHONPATH: the children the tests start (python -m paddledoctor in a tmp folder, the
    # probes' children) import this checkout, mutant included, not an installed copy
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", "-p", "no:cacheprovider",
           *tests]
    try:
        proc = subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, "timed out"
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    tail = proc.stdout.strip().splitlines()[-1:] or [""]
    return proc.returncode, lines[0] if lines else tail[0]


def apply(mutant: Mutant) -> "tuple[Path, bytes, os.stat_result]":
    path = ROOT / mutant.path
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    n = text.count(mutant.old)
    if n != 1:
        raise LookupError(f"{mutant.name}: its text occurs {n} times in {mutant.path}, not once")
    st = path.stat()
    path.write_text(text.replace(mutant.old, mutant.new), encoding="utf-8")
    return path, raw, st


def restore(path: Path, raw: bytes, st: os.stat_result) -> None:
    path.write_bytes(raw)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def run_one(mutant: Mutant, all_tests: bool, timeout: float) -> "tuple[str, str]":
    path, raw, st = apply(mutant)
    try:
        rc, detail = _run_tests(("tests",) if all_tests else mutant.tests, timeout)
    finally:
        restore(path, raw, st)
    if rc == 0:
        return "SURVIVED", detail
    if rc in (1, -1):
        return "killed", detail
    return f"error rc={rc}", detail  # collection error, usage error: not a kill by a test


def _stop(signum, frame):
    """SIGTERM and SIGHUP unwind like Ctrl-C, so that ``finally`` restores the mutated file."""
    raise KeyboardInterrupt


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("words", nargs="*", help="run only the mutants whose name contains one of these")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--all-tests", action="store_true", help="run the whole suite on each mutant")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per mutant (default 900)")
    args = ap.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.words or any(w in m.name for w in args.words)]
    if args.list:
        for m in chosen:
            print(f"{m.name:40} {m.path}: {m.why}")
        return 0
    killed = survived = broken = 0
    for m in chosen:
        t0 = time.monotonic()
        try:
            verdict, detail = run_one(m, args.all_tests, args.timeout)
        except LookupError as exc:
            verdict, detail = "STALE", str(exc)
        print(f"{verdict:9} {m.name:40} {time.monotonic() - t0:6.1f}s  {detail}", flush=True)
        if verdict == "killed":
            killed += 1
        elif verdict == "SURVIVED":
            survived += 1
        else:
            broken += 1
    total = killed + survived + broken
    print(f"{killed}/{total} killed, {survived} survived, {broken} could not be judged")
    return 2 if broken else (1 if survived else 0)


if __name__ == "__main__":
    sys.exit(main())
