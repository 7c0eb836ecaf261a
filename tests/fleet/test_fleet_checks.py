"""The fleet area's pure checks and the cluster table, on facts shaped as `paddledoctor fleet` records
them (no launcher here: that is test_fleet_launch.py)."""

from __future__ import annotations

import json

import pytest

from conftest import codes_of

from paddledoctor.checks.fleet import differences
from paddledoctor.doctor import diagnose
from paddledoctor.fleet import rank as fleet_rank
from paddledoctor.fleet.table import render, verdict
from paddledoctor.model import Report


def rank(r, verdict="ok", build="CPU", paddle="3.3.1", findings=(), measured=None):
    return {"rank": r, "host": f"host-{r:06x}", "device": "cpu", "verdict": verdict,
            "figures": {"paddle": paddle, "build": build, "python": "3.11.7", "doctor": "0.1.0"},
            "findings": list(findings),
            "measured": measured if measured is not None else {
                "device_op": {"device": "cpu", "ok": True, "seconds": 0.004},
                "all_reduce": {"ok": True},
                "bandwidth": [{"bytes": 1 << 20, "busbw_gbps": 0.5}]}}


def cluster(ranks, **collective) -> dict:
    coll = {"joined": {"seconds": 1.5}, "all_reduce": {"ok": True, "elements": 4099},
            "barrier": {"seconds": 0.01}, "join_timeout_s": 30.0}
    coll.update(collective)
    return {"fleet": {"scope": "cluster", "world_size": len(ranks), "this_rank": 0, "nnodes": 1,
                      "backend": "gloo", "timeout_s": 60.0, "ranks": ranks, "collective": coll,
                      "seconds": 4.2}}


def judge(facts) -> Report:
    return diagnose(facts, {"fleet": True}, mode="fleet", areas=["fleet"])


def test_healthy_cluster_has_no_findings_and_says_so():
    report = judge(cluster([rank(0), rank(1), rank(2)]))
    assert report.findings == [] and report.exit_code() == 0
    assert verdict(report) == "Every rank can train (3 rank(s))."
    assert [a.summary for a in report.areas] == ["3 of 3 rank(s) reported, backend gloo"]


def test_differences_name_the_odd_ranks_against_the_others():
    reports = [rank(0, build="CUDA 12.6"), rank(1, build="CUDA 12.6"), rank(2, build="CUDA 12.6"),
               rank(3, build="CUDA 12.6"), rank(4, build="CUDA 12.6"), rank(5, build="CPU")]
    assert differences(reports, lambda r: r["figures"]["build"]) == "rank 5: CPU; the others: CUDA 12.6"
    assert differences(reports[:5], lambda r: r["figures"]["build"]) == ""
    split = [rank(0, paddle="3.3.1"), rank(1, paddle="3.2.0")]
    assert differences(split, lambda r: r["figures"]["paddle"]) == "rank 0: 3.3.1; rank 1: 3.2.0"
    report = judge(cluster(reports))
    (pd904,) = [f for f in report.findings if f.code == "PD904"]
    assert pd904.title == "The ranks differ in Paddle build: rank 5: CPU; the others: CUDA 12.6"


def test_a_failing_rank_gives_pd903_with_its_fix_and_fails_the_cluster():
    pd101 = {"code": "PD101", "severity": "error", "area": "paddle", "title": "CPU build on GPUs",
             "fix": {"commands": ["pip install paddlepaddle-gpu"], "text": "Install the GPU build."}}
    info = {"code": "PD300", "severity": "info", "area": "gpu", "title": "no driver", "fix": None}
    report = judge(cluster([rank(0, findings=[info]), rank(1, "error", findings=[pd101, info])]))
    (f,) = report.findings
    assert f.code == "PD903" and f.title == "rank 1 (host-000001, cpu): PD101 CPU build on GPUs"
    assert f.fix.commands == ["pip install paddlepaddle-gpu"]
    assert report.exit_code() == 1


def test_a_device_op_that_failed_is_the_ranks_failure():
    bad = rank(1, measured={"device_op": {"device": "gpu:1", "ok": False,
                                          "error": "RuntimeError: CUDA error 700"}})
    (f,) = judge(cluster([rank(0), bad])).findings
    assert f.code == "PD903" and "on gpu:1 it raised: RuntimeError: CUDA error 700" in f.title


def test_missing_ranks_are_pd902_and_a_failed_step_pd901():
    report = judge(cluster([rank(0), {"rank": 1, "unavailable": "did not join the check in time"}],
                           failed={"step": "join the other ranks", "outcome": "timeout",
                                   "behind": [1]}))
    assert codes_of(report) == {"PD902"}
    assert report.findings[0].title.startswith("rank 1 did not join the others within 30.0 s")
    report = judge(cluster([rank(0), rank(1)],
                           failed={"step": "all_reduce", "outcome": "error", "behind": None,
                                   "error": "RuntimeError: Connection reset by peer"}))
    assert codes_of(report) == {"PD901"}
    assert "'all_reduce' (error): RuntimeError: Connection reset by peer" in report.findings[0].title


def test_a_wrong_all_reduce_is_pd901():
    facts = cluster([rank(0), rank(1)], all_reduce={"ok": False, "elements": 4099,
                                                    "wrong_elements": 3, "head": [3, 5, 1],
                                                    "expected_head": [3, 5, 2]})
    (f,) = judge(facts).findings
    assert f.code == "PD901" and "3 of 4099 elements wrong" in f.title


def test_an_unshared_dir_is_pd907_from_both_sides():
    m0 = dict(rank(0)["measured"], shared_dir={"dir": "/mnt/s", "sees": [0, 1], "does_not_see": [2]})
    m2 = dict(rank(2)["measured"], shared_dir={"dir": "/mnt/s", "sees": [], "does_not_see": [0]})
    m1 = dict(rank(1)["measured"], shared_dir={"dir": "/mnt/s", "write_error": "PermissionError: x",
                                               "sees": [0], "does_not_see": []})
    report = judge(cluster([rank(0, measured=m0), rank(1, measured=m1), rank(2, measured=m2)]))
    titles = sorted(f.title for f in report.findings if f.code == "PD907")
    assert len(titles) == 3
    assert "rank 1 (host-000001) cannot write to /mnt/s: PermissionError: x" in titles
    assert any("rank 0 (host-000000) does not see the other ranks' files" in t for t in titles)
    assert any("rank 2 (host-000002) does not see rank 0's files" in t for t in titles)


def test_one_rank_is_pd908_info_and_passes():
    report = judge(cluster([rank(0)]))
    assert codes_of(report) == {"PD908"} and report.exit_code() == 0


def test_rank_scope_launcher_findings(tmp_path):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    (log_dir / "envlog.0").write_text("x")
    env = {"PADDLE_TRAINER_ID": "0", "PADDLE_TRAINERS_NUM": "2", "PADDLE_LOG_DIR": str(log_dir),
           "FLAGS_selected_gpus": "0", "CUDA_VISIBLE_DEVICES": "0,1",
           "HF_TOKEN": "hf_secret", "SSL_CERT_FILE": str(log_dir / "envlog.0")}
    launch = fleet_rank.launch_env(env)
    on_disk = fleet_rank.env_on_disk(launch, env)
    assert on_disk == {"files": [str(log_dir / "envlog.0")], "secret_names": ["HF_TOKEN"]}
    facts = {"paddle": {"version_file": {"full_version": "3.3.1", "cuda_version": "False",
                                         "cudnn_version": "False", "hip_version": "False",
                                         "xpu_xre_version": "False"}},
             "fleet": {"scope": "rank", "launch": launch.to_json(), "env_on_disk": on_disk}}
    report = diagnose(facts, {}, areas=["fleet"])
    assert codes_of(report) == {"PD905", "PD906"}
    text = json.dumps(report.to_json())
    assert "hf_secret" not in text and "HF_TOKEN" in text
    # the cluster lifts them up once, whichever rank found them
    ranks = [rank(r, findings=[f.to_json() for f in report.findings]) for r in range(2)]
    assert [f.code for f in judge(cluster(ranks)).findings].count("PD906") == 1


@pytest.mark.parametrize("env, words", [
    ({}, "not started by Paddle's launcher"),
    ({"PADDLE_TRAINER_ID": "x", "PADDLE_TRAINERS_NUM": "2"}, "not a number"),
    ({"PADDLE_TRAINER_ID": "2", "PADDLE_TRAINERS_NUM": "2"}, "is not below"),
])
def test_launch_env_refuses_what_the_launcher_would_not_set(env, words):
    with pytest.raises(fleet_rank.NotLaunched, match=words):
        fleet_rank.launch_env(env)


def test_table_rows_and_differences():
    pd208 = {"code": "PD208", "severity": "warn", "area": "cuda", "title": "CVD set", "fix": None}
    facts = cluster([rank(0), rank(1, "warn", findings=[pd208]),
                     {"rank": 2, "unavailable": "did not join the check in time"}],
                    bandwidth={"rows": [{"bytes": 65536, "busbw_gbps": 0.02},
                                        {"bytes": 16 << 20, "busbw_gbps": 0.9}]})
    lines = []
    render(judge(facts), lines.append)
    text = "\n".join(lines)
    assert text.splitlines()[0].startswith("paddledoctor 0.1.0 fleet: 3 rank(s) on 1 node(s), backend gloo")
    assert "host-000001  cpu     warn     Paddle 3.3.1 CPU, op ok 4.0 ms, all-reduce ok, " \
           "busbw 0.50 GB/s @ 1 MiB, PD208" in text
    assert "2     ?            ?       FAIL     did not join the check in time" in text
    assert "all-reduce bus bandwidth (rank 0): 64 KiB 0.020 GB/s, 16 MiB 0.900 GB/s" in text
    assert "rank 0: -; rank 1: WARN PD208 CVD set" in text  # no majority of two


def test_a_rank_whose_own_check_did_not_finish_fails_the_job_and_is_named():
    silent = {"rank": 2, "unavailable": "this rank's own check did not finish in time",
              "measured": {}}
    report = judge(cluster([rank(0), rank(1), silent]))
    (pd909,) = [f for f in report.findings if f.code == "PD909"]
    assert pd909.title == "rank 2 did not report: this rank's own check did not finish in time"
    assert pd909.evidence["ranks"] == [2]
    assert report.exit_code() == 1


def test_a_rank_missing_from_the_gathered_reports_is_named_too():
    facts = cluster([rank(0), rank(2)])
    facts["fleet"]["world_size"] = 3
    report = judge(facts)
    assert [f.evidence["ranks"] for f in report.findings if f.code == "PD909"] == [[1]]
    assert report.exit_code() == 1


def test_ranks_that_never_joined_are_pd902s_not_pd909s():
    facts = cluster([rank(0), {"rank": 1, "unavailable": "did not join the check in time"}],
                    failed={"step": "join the other ranks", "outcome": "timeout", "behind": [1]})
    codes = codes_of(judge(facts))
    assert "PD902" in codes and "PD909" not in codes


# --- the 1,000-rank shape (#13): rank 0 holds the reports, every rank the all-reduced verdict ----

def on_rank(r, world, worst, mine, environments_differ=False, **collective) -> dict:
    """Rank r's view after the gather to rank 0: its own report, the MAX all-reduce's verdict."""
    facts = cluster([rank(r, "warn" if mine == 1 else "ok")],
                    verdict={"worst": worst, "mine": mine, "environments_differ": environments_differ,
                             "from": "all_reduce_max"}, **collective)
    facts["fleet"].update(world_size=world, this_rank=r, reports_at=0)
    return facts


def test_a_rank_that_passed_fails_when_the_all_reduced_verdict_says_another_rank_failed():
    report = judge(on_rank(5, 1000, worst=2, mine=0))
    assert codes_of(report) == {"PD910"} and report.exit_code() == 1
    assert "rank 0's log names it" in report.findings[0].title
    # its own report alone is no silent rank: the 999 others went to rank 0 (no PD909)
    assert [a.summary for a in report.areas] == ["rank 5 of 1000; the reports went to rank 0, backend gloo"]


def test_the_all_reduced_verdict_warns_and_passes_without_strict():
    for facts in (on_rank(1, 4, worst=1, mine=0), on_rank(1, 4, worst=0, mine=0, environments_differ=True)):
        report = judge(facts)
        assert codes_of(report) == {"PD910"} and report.findings[0].severity.value == "warn"
        assert report.exit_code() == 0 and report.exit_code(strict=True) == 1
    assert codes_of(judge(on_rank(1, 4, worst=0, mine=0))) == set()
    assert codes_of(judge(on_rank(1, 4, worst=1, mine=1))) == set()  # its own warning, already its own


def test_rank_0_judges_every_report_itself():
    facts = cluster([rank(0), rank(1, "error", findings=[{"code": "PD101", "severity": "error",
                                                          "area": "paddle", "title": "CPU build"}])],
                    verdict={"worst": 2, "mine": 0, "environments_differ": False})
    facts["fleet"]["reports_at"] = 0
    assert codes_of(judge(facts)) == {"PD903"}


def test_a_rank_other_than_0_counts_the_missing_ranks_rank_0_names_them():
    facts = on_rank(3, 1000, worst=0, mine=0, failed={"step": "join the other ranks",
                                                      "outcome": "timeout", "behind": None,
                                                      "missing_count": 7})
    facts["fleet"]["reports_at"] = None  # no gather after a failed join
    (pd902,) = [f for f in judge(facts).findings if f.code == "PD902"]
    assert pd902.title.startswith("7 rank(s) did not join the others within 30.0 s (rank 0's log "
                                  "names them)")
    named = cluster([rank(0)], failed={"step": "join the other ranks", "outcome": "timeout",
                                       "behind": list(range(1, 600)) + [601]})
    (pd902,) = [f for f in judge(named).findings if f.code == "PD902"]
    assert pd902.title.startswith("ranks 1-599, 601 did not join")


def test_the_table_groups_ranks_that_look_the_same_and_lists_the_others():
    ranks = [rank(r, measured={"device_op": {"device": "cpu", "ok": True, "seconds": 0.001 * (r + 1)},
                               "all_reduce": {"ok": True},
                               "bandwidth": [{"bytes": 16 << 20, "busbw_gbps": 1.0 + r / 100}]})
             for r in range(8)]
    ranks[5] = rank(5, "warn", findings=[{"code": "PD208", "severity": "warn", "area": "cuda",
                                          "title": "CVD set", "fix": None}])
    for r in ranks:
        r["host"] = "host-0000aa" if r["rank"] < 6 else "host-0000ff"  # two nodes
    lines = []
    render(judge(cluster(ranks)), lines.append)
    rows = [line for line in "\n".join(lines).splitlines() if line[:1].isdigit()]
    assert len(rows) == 2, lines
    assert rows[0].split()[:5] == ["0-4,", "6-7", "2", "hosts", "cpu"]
    assert rows[0].endswith("ok       Paddle 3.3.1 CPU, op ok 1.0-8.0 ms, all-reduce ok, "
                            "busbw 1.00-1.07 GB/s @ 16 MiB"), rows[0]
    assert rows[1].startswith("5 ") and "warn" in rows[1] and rows[1].endswith("PD208")
