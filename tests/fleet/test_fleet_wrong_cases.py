"""The fleet's all-reduce judged on a real wrong sum (issue #12: a check that never judged it passed
every test). Two real ranks under Paddle's launcher (CPU build, gloo); on rank 1 the test-only fault
tests/fakes/faults/sitecustomize.py leaves one element of paddle.distributed.all_reduce's result one
too high (or one too low), as a flaky link or a bad GPU would, with no error raised. The doctor is not touched."""

from __future__ import annotations

import json
import os

import pytest

from conftest import FAKE_NVML_DIR, FAKES
from test_fleet_launch import launch, worker_log

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
    assert "rank 1 of 2: FAIL" in log1
