"""Wrong cases of the fleet on real runs. The fleet's all-reduce judged on a real wrong sum (issue #12: a check that never judged it passed
every test). Two real ranks under Paddle's launcher (CPU build, gloo); on rank 1 the test-only fault
tests/fakes/faults/sitecustomize.py leaves one element of paddle.distributed.all_reduce's result one
too high (or one too low), as a flaky link or a bad GPU would, with no error raised. The doctor is not touched."""

from __future__ import annotations

import json
import os

import pytest

from conftest import FAKE_NVML_DIR, FAKES
from test_fleet_launch import WRAPPER, launch, worker_log

FAULTS = FAKES / "faults"


@pytest.mark.parametrize("fault", ["all-reduce-off-by-one", "all-reduce-one-too-low"])
def test_a_rank_whose_all_reduce_is_off_by_one_fails_and_is_named(tmp_path, fault):
    pythonpath = os.pathsep.join([str(FAULTS), str(FAKE_NVML_DIR)]
                                 + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
    proc, wall, log_dir = launch(tmp_path, 2, "--json", "--timeout", "40",
                                 env={"PYTHONPATH": pythonpath,
                                      "PADDLEDOCTOR_TEST_FAULT": f"{fault}:1"})
    log0, log1 = worker_log(log_dir, 0), worker_log(log_dir, 1)
    assert proc.returncode == 1, log0[-3000:]
    doc0 = json.loads(log0[log0.index("{"):])
    ranks = doc0["facts"]["fleet"]["ranks"]
    assert [r["measured"]["all_reduce"]["ok"] for r in ranks] == [True, False]
    assert ranks[1]["measured"]["all_reduce"]["wrong_elements"] == 1
    # rank 1's own static check is clean: only the sum is wrong, and rank 0's report says so
    assert [r["verdict"] for r in ranks] == ["ok", "ok"]
    pd901 = [f for f in doc0["findings"] if f["code"] == "PD901"]
    assert len(pd901) == 1, doc0["findings"]
    assert "wrong result on rank 1: 1 of 4099 elements wrong" in pd901[0]["title"]
    assert pd901[0]["evidence"]["rank"] == 1 and doc0["exit_code"] == 1
    assert "PD901" in log0 or doc0["verdict"].startswith("This job cannot train")
    doc1 = json.loads(log1[log1.index("{"):])
    assert doc1["exit_code"] == 1 and doc1["facts"]["fleet"]["collective"]["verdict"]["mine"] == 2


def test_a_failing_rank_0_fails_every_rank_through_the_all_reduce_of_the_verdicts(tmp_path):
    """Rank 0 sees two A100s with the CPU build (PD101, its own error); rank 1 is clean and holds only
    its own report (the reports go to rank 0): it learns the cluster's verdict from the MAX
    all-reduce, reports PD910, and exits 1 too."""
    proc, wall, log_dir = launch(tmp_path, 2, "--json", "--timeout", "40", entry=str(WRAPPER),
                                 env={"FLEET_TEST_GPU_RANK": "0"})
    log0, log1 = worker_log(log_dir, 0), worker_log(log_dir, 1)
    assert proc.returncode == 1, log0[-3000:]
    doc0, doc1 = (json.loads(log[log.index("{"):]) for log in (log0, log1))
    assert [r["rank"] for r in doc0["facts"]["fleet"]["ranks"]] == [0, 1]
    assert {f["code"] for f in doc0["findings"]} >= {"PD903"} and doc0["exit_code"] == 1
    fleet1 = doc1["facts"]["fleet"]
    assert [(r["rank"], r["verdict"]) for r in fleet1["ranks"]] == [(1, "ok")]
    assert fleet1["reports_at"] == 0
    assert fleet1["collective"]["verdict"]["worst"] == 2 and fleet1["collective"]["verdict"]["mine"] == 0
    assert [f["code"] for f in doc1["findings"] if f["severity"] == "error"] == ["PD910"]
    assert doc1["exit_code"] == 1


def test_a_rank_whose_own_check_never_finishes_fails_the_job_and_is_named(tmp_path):
    """On rank 1, os.statvfs hangs (tests/fakes/faults: a hung NFS mount), so its own check never
    finishes. It still takes part in the collectives, rank 0 names it (PD909), every rank exits 1,
    and the stuck check does not keep rank 1 from exiting."""
    pythonpath = os.pathsep.join([str(FAULTS), str(FAKE_NVML_DIR)]
                                 + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
    proc, wall, log_dir = launch(tmp_path, 2, "--json", "--timeout", "40", timeout=150,
                                 env={"PYTHONPATH": pythonpath,
                                      "PADDLEDOCTOR_TEST_FAULT": "statvfs-hangs:1"})
    log0, log1 = worker_log(log_dir, 0), worker_log(log_dir, 1)
    assert "test fault: os.statvfs" in log1, "the fault did not hang rank 1's check"
    assert proc.returncode == 1, log0[-3000:]
    doc0 = json.loads(log0[log0.index("{"):])
    ranks = doc0["facts"]["fleet"]["ranks"]
    assert ranks[1]["unavailable"] == "this rank's own check did not finish in time", ranks[1]
    assert ranks[1]["measured"]["all_reduce"]["ok"], "its collectives still ran"
    pd909 = [f for f in doc0["findings"] if f["code"] == "PD909"]
    assert [f["evidence"]["ranks"] for f in pd909] == [[1]], doc0["findings"]
    assert doc0["exit_code"] == 1
    doc1 = json.loads(log1[log1.index("{"):])
    assert doc1["exit_code"] == 1
    assert wall < 120, wall
