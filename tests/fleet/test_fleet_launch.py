"""`paddledoctor fleet` on Paddle's real launcher (python -m paddle.distributed.launch), real
PaddlePaddle (CPU build, gloo), 1 to 3 ranks on this machine. A rank is broken only by the test-only
entry point tests/fakes/fleet/rank_wrapper (a fake NVML, a hanging or crashing fake paddle, or a
folder that is not the shared one on that rank), never in the product's code.

The launcher runs in a temporary folder with --log_dir there; rank 0's output is log/workerlog.0.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path


from conftest import FAKES, doctor_env, fake_nvml_build, gpu, nvml_machine

WRAPPER = FAKES / "fleet" / "rank_wrapper"


def paddledoctor_script() -> str:
    """The installed console script (the launcher runs a non-.py entry point as it is)."""
    here = Path(sys.executable).parent / "paddledoctor"
    return str(here) if here.exists() else shutil.which("paddledoctor")


def launch(tmp_path: Path, nproc: int, *args: str, entry: str | None = None, env: dict | None = None,
           timeout: float = 300) -> tuple[subprocess.CompletedProcess, float, Path]:
    log_dir = tmp_path / "log"
    gpus = nvml_machine(gpus=[gpu(), gpu()])
    full_env = doctor_env(extra={"FLEET_TEST_PYTHON": sys.executable,
                                 "FLEET_TEST_NVML_LIBDIR": str(fake_nvml_build.library_dir()),
                                 "FLEET_TEST_NVML_SPEC": fake_nvml_build.spec(gpus), **(env or {})})
    full_env.pop("CUDA_VISIBLE_DEVICES", None)
    if env and "CUDA_VISIBLE_DEVICES" in env:
        full_env["CUDA_VISIBLE_DEVICES"] = env["CUDA_VISIBLE_DEVICES"]
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "paddle.distributed.launch",
                           "--nproc_per_node", str(nproc), "--log_dir", str(log_dir),
                           *([entry] if entry else [paddledoctor_script(), "fleet"]), *args],
                          cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=timeout)
    return proc, time.monotonic() - t0, log_dir


def worker_log(log_dir: Path, rank: int) -> str:
    return (log_dir / f"workerlog.{rank}").read_text(errors="replace")


TABLE_ROW = re.compile(r"^(\d+(?:-\d+)?(?:, \d+(?:-\d+)?)*)\s+(\S+(?: hosts)?)\s+(\S+)\s+"
                       r"(ok|warn|FAIL)\s+(.*)$")


def table_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if TABLE_ROW.match(line)]


def rows(log: str) -> dict:
    """The cluster table's rows: rank -> (host, device, verdict, figures); a row of a group of
    ranks ("0-3, 5") gives each of its ranks the group's row."""
    out = {}
    for line in table_lines(log):
        m = TABLE_ROW.match(line)
        for part in m.group(1).split(", "):
            first, _, last = part.partition("-")
            for rank in range(int(first), int(last or first) + 1):
                out[rank] = m.groups()[1:]
    return out


def test_two_ranks_pass_with_the_collective_check_and_the_shared_dir(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    secret = "s3cr3t-value-never-to-be-printed"
    proc, wall, log_dir = launch(tmp_path, 2, "--dir", str(shared), "--bench", "--timeout", "40",
                                 env={"MY_SERVICE_API_TOKEN": secret})
    log0 = worker_log(log_dir, 0)
    assert proc.returncode == 0, log0 + proc.stdout[-3000:]
    table = rows(log0)
    assert sorted(table) == [0, 1]
    # the two ranks look the same: one row, their measured values as ranges
    assert len(table_lines(log0)) == 1 and table_lines(log0)[0].startswith("0-1 "), log0
    for rank, (host, device, verdict, figures) in table.items():
        assert re.fullmatch(r"host-[0-9a-f]{6}", host) and device == "cpu", table
        assert "Paddle 3.3.1 CPU" in figures and "op ok" in figures and "all-reduce ok" in figures
        assert re.search(r"busbw \d+\.\d\d(-\d+\.\d\d)? GB/s @ 16 MiB", figures), figures
        assert re.search(r"ckpt round trip exact, save \d+(-\d+)? MB/s", figures), figures
    assert table[0][0] == table[1][0], "two ranks on one host share one label"
    assert "all-reduce of known values correct" in log0
    sizes = re.search(r"all-reduce bus bandwidth \(rank 0\): (.*)", log0).group(1)
    assert [s.split(" ")[0] + " " + s.split(" ")[1] for s in sizes.split(", ")] == \
        ["64 KiB", "1 MiB", "16 MiB"]
    assert f"shared dir {shared}: every rank's marker seen" in log0
    assert list(shared.iterdir()) == [], "the markers are cleaned up"
    # The launcher wrote the environment (with the token) to disk; the doctor warns, by name only.
    assert "WARN PD906" in log0 and "MY_SERVICE_API_TOKEN" in log0
    assert secret in (log_dir / "envlog.0").read_text(), "the launcher's own doing"
    for f in log_dir.iterdir():
        if f.name.startswith("workerlog"):
            assert secret not in f.read_text(errors="replace"), f
    assert "Every rank can train, with 1 warning(s)." in log0
    assert "rank 1 of 2: ok" in worker_log(log_dir, 1)
    # the launcher's logs went to --log_dir; nothing else was written in the job's folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log", "shared"]
    assert wall < 120, wall  # measured: about 20 s


def test_three_ranks_json_and_a_failing_rank_fails_every_rank(tmp_path):
    """Rank 1 sees two A100s (fake NVML) with the CPU build: its own check fails (PD101). Rank 2's
    --dir is a local folder, not the shared one (PD907). Every rank exits 1."""
    shared, local = tmp_path / "shared", tmp_path / "local-on-rank-2"
    shared.mkdir()
    local.mkdir()
    proc, wall, log_dir = launch(tmp_path, 3, "--dir", str(shared), "--json", "--timeout", "40",
                                 entry=str(WRAPPER),
                                 env={"FLEET_TEST_GPU_RANK": "1", "FLEET_TEST_LOCAL_DIR_RANK": "2",
                                      "FLEET_TEST_LOCAL_DIR": str(local)})
    log0 = worker_log(log_dir, 0)
    assert proc.returncode == 1, log0
    doc = json.loads(log0[log0.index("{"):])
    fleet = doc["facts"]["fleet"]
    assert fleet["world_size"] == 3 and [r["rank"] for r in fleet["ranks"]] == [0, 1, 2]
    assert [r["verdict"] for r in fleet["ranks"]] == ["ok", "error", "ok"]
    assert {f["code"] for f in fleet["ranks"][1]["findings"]} >= {"PD101"}
    assert all(r["measured"]["all_reduce"]["ok"] for r in fleet["ranks"])
    pd903 = [f for f in doc["findings"] if f["code"] == "PD903"]
    assert len(pd903) == 1 and pd903[0]["title"].startswith("rank 1 (host-")
    assert "PD101 CPU build of PaddlePaddle" in pd903[0]["title"]
    assert "paddlepaddle-gpu" in " ".join(pd903[0]["fix"]["commands"])
    pd907 = sorted(f["title"] for f in doc["findings"] if f["code"] == "PD907")
    assert len(pd907) == 2, doc["findings"]
    assert "rank 0 (" in pd907[0] and "missing: rank 2" in pd907[0]
    assert "rank 2 (" in pd907[1] and "rank 0's files" in pd907[1]
    assert doc["exit_code"] == 1
    for rank in (1, 2):  # each holds its own report (the reports went to rank 0), and fails
        log = worker_log(log_dir, rank)
        own = json.loads(log[log.index("{"):])
        assert own["exit_code"] == 1 and own["facts"]["fleet"]["reports_at"] == 0
        assert [r["rank"] for r in own["facts"]["fleet"]["ranks"]] == [rank]
    assert list(shared.iterdir()) == [] and list(local.iterdir()) == []


def _no_process_left(pid_file: Path) -> None:
    pids = [int(p) for p in pid_file.read_text().split()] if pid_file.exists() else []
    assert pids, "the fake paddle never ran: the test did not break what it meant to"
    deadline = time.monotonic() + 5
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in pids if Path(f"/proc/{p}").exists()
                 and "Z" not in Path(f"/proc/{p}/stat").read_text().split(")")[-1][:3]]
        time.sleep(0.1)
    assert not alive, f"processes left running: {alive}"


def test_a_hanging_rank_is_named_by_the_others_within_the_timeout(tmp_path):
    imported = tmp_path / "imported.pids"
    proc, wall, log_dir = launch(tmp_path, 3, "--timeout", "30", entry=str(WRAPPER),
                                 env={"FLEET_TEST_HANG_RANK": "2",
                                      "FAKE_PADDLE_IMPORTED": str(imported)})
    log0 = worker_log(log_dir, 0)
    assert proc.returncode != 0, log0
    assert "ERROR PD902 rank 2 did not join the others within 15.0 s" in log0
    table = rows(log0)
    assert table[2][2] == "FAIL" and "did not join the check in time" in table[2][3]
    assert table[0][2] == "ok" and table[1][2] == "ok"  # the others' own checks were fine
    assert "waiting for rank(s) 2" in log0
    # rank 1 counts the missing ranks and leaves their names to rank 0 (no N^2 reads at scale)
    assert "ERROR PD902 1 rank(s) did not join the others within 15.0 s (rank 0's log names them)" \
        in worker_log(log_dir, 1)
    # measured: about 22 s; the launcher itself would have waited forever (here: launch's 300 s)
    assert wall < 120, wall
    _no_process_left(imported)


def test_a_crashing_rank_is_named_too(tmp_path):
    imported = tmp_path / "imported.pids"
    proc, wall, log_dir = launch(tmp_path, 2, "--timeout", "28", entry=str(WRAPPER),
                                 env={"FLEET_TEST_CRASH_RANK": "1",
                                      "FAKE_PADDLE_IMPORTED": str(imported)})
    log0 = worker_log(log_dir, 0)
    assert proc.returncode != 0
    assert "ERROR PD902 rank 1 did not join the others within 14.0 s" in log0
    assert wall < 120, wall  # measured: about 12 s; without the deadline: launch's 300 s
    _no_process_left(imported)


def test_one_rank_runs_its_own_check_and_says_the_collectives_need_two(tmp_path):
    proc, wall, log_dir = launch(tmp_path, 1, "--timeout", "30")
    log0 = worker_log(log_dir, 0)
    assert proc.returncode == 0, log0
    assert sorted(rows(log0)) == [0] and "op ok" in rows(log0)[0][3]
    assert "Collective check: not run (one rank)" in log0
    assert "INFO PD908 One rank only" in log0


def test_cuda_visible_devices_with_the_cpu_build_under_the_launcher(tmp_path):
    proc, wall, log_dir = launch(tmp_path, 2, "--timeout", "30",
                                 env={"CUDA_VISIBLE_DEVICES": "0,1"})
    log0 = worker_log(log_dir, 0)
    assert proc.returncode == 1, log0
    assert "ERROR PD905 paddle.distributed.launch started a GPU job (CUDA_VISIBLE_DEVICES='0,1'" in log0
    assert "$ unset CUDA_VISIBLE_DEVICES" in log0
    assert "all-reduce of known values correct" in log0  # the check itself went on over gloo


def test_without_the_launcher_it_is_a_usage_error(tmp_path):
    env = doctor_env()
    for name in list(env):
        if name.startswith("PADDLE_"):
            env.pop(name)
    proc = subprocess.run([sys.executable, "-m", "paddledoctor", "fleet"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "paddle.distributed.launch" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_rank_that_hangs_in_the_middle_of_the_collectives_is_named(tmp_path):
    """Rank 1 is stopped (SIGSTOP) after it joined (in init_parallel_env or a collective): the others
    block; at the step's deadline the heartbeats in the store show which rank stopped answering."""
    proc, wall, log_dir = launch(tmp_path, 3, "--timeout", "30", "--sizes", "64MiB,256MiB,512MiB",
                                 entry=str(WRAPPER), env={"FLEET_TEST_STOP_RANK": "1"})
    log0 = worker_log(log_dir, 0)
    assert proc.returncode != 0, log0
    m = re.search(r"ERROR PD902 rank 1 stopped responding during '(\w+)'", log0)
    assert m, log0
    assert m.group(1) in ("init_parallel_env", "all_reduce", "barrier", "bandwidth", "gather reports")
    assert "waiting for rank(s) 1" in log0
    assert "op ok" in rows(log0)[0][3], "rank 0's own measures are still shown"
    assert wall < 120, wall  # measured: about 20 s; without the deadline: launch's 300 s
