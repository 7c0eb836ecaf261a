"""Checks of the fleet area (see paddledoctor/codes.py): pure judgements of facts["fleet"].

Two scopes. ``facts["fleet"]["scope"] == "rank"``: what one rank's launcher environment says (PD905,
PD906), judged with the rank's own check. ``"cluster"``: every rank's report as gathered, and the
collective check as this rank saw it (PD901-PD904, PD907, PD908; the ranks' own PD905/PD906 are
lifted up once).
"""

from __future__ import annotations

from ..model import Fix, Severity
from . import check, finding, summary
from . import facts as F


def _fleet(facts, scope):
    fleet = F.get(facts, "fleet")
    return fleet if isinstance(fleet, dict) and fleet.get("scope") == scope else None


def rank_ranges(ranks) -> str:
    """'0-3, 5, 7-999': consecutive ranks as one range, so that a list of 1,000 ranks stays short."""
    ranks = sorted(set(ranks))
    parts, i = [], 0
    while i < len(ranks):
        j = i
        while j + 1 < len(ranks) and ranks[j + 1] == ranks[j] + 1:
            j += 1
        parts.append(str(ranks[i]) if i == j else f"{ranks[i]}-{ranks[j]}")
        i = j + 1
    return ", ".join(parts)


def _ranks_text(ranks) -> str:
    ranks = list(ranks)
    return ("rank " if len(ranks) == 1 else "ranks ") + rank_ranges(ranks)


# --- one rank ------------------------------------------------------------------------------------

@check("fleet")
def launcher_gpu_job_with_cpu_build(facts, options):
    fleet = _fleet(facts, "rank")
    if not fleet:
        return
    launch = fleet.get("launch") or {}
    if not F.is_cpu_build(F.build(facts)) or launch.get("backend") == "gloo" \
            or not launch.get("selected_gpus"):
        return
    cvd = launch.get("cuda_visible_devices")
    yield finding("PD905", "paddle.distributed.launch started a GPU job"
                           + (f" (CUDA_VISIBLE_DEVICES={cvd!r} is set)" if cvd is not None else "")
                           + " but this Paddle is the CPU build: every rank fails in init_parallel_env "
                             "('The global group is not initialized')",
                  {"CUDA_VISIBLE_DEVICES": cvd, "FLAGS_selected_gpus": launch.get("selected_gpus"),
                   "PADDLE_DISTRI_BACKEND": launch.get("backend"),
                   "paddle_build": "CPU"},
                  Fix(["unset CUDA_VISIBLE_DEVICES"],
                      "On a CPU job, start the launcher without CUDA_VISIBLE_DEVICES, so that it picks "
                      "the gloo backend; on GPUs, install the GPU build (paddledoctor check prints "
                      "the command). The fleet check itself ran its collectives on gloo."))


@check("fleet")
def launcher_wrote_secrets_to_disk(facts, options):
    fleet = _fleet(facts, "rank")
    if not fleet:
        return
    on_disk = fleet.get("env_on_disk") or {}
    names, files = on_disk.get("secret_names") or [], on_disk.get("files") or []
    if not names or not files:
        return
    log_dir = (fleet.get("launch") or {}).get("log_dir") or "log"
    shown = names[:8] + ([f"... {len(names) - 8} more"] if len(names) > 8 else [])
    # The same title on every rank, so that the cluster shows it once.
    yield finding("PD906", f"The launcher wrote every rank's whole environment to "
                           f"{log_dir}/envlog.N and backup_env.N.json, with {len(names)} "
                           f"secret-looking variable(s): {', '.join(shown)}",
                  {"files": files, "secret_variable_names": names},
                  Fix([f"chmod 600 {log_dir}/envlog.* {log_dir}/backup_env.*.json"],
                      "Give secrets to the job in files (mounted secrets) rather than environment "
                      "variables, or point --log_dir at a private folder and remove envlog.* and "
                      "backup_env.*.json when the job ends. paddledoctor never writes these values."))


# --- the cluster ---------------------------------------------------------------------------------

def _reported(fleet) -> list[dict]:
    return [r for r in fleet.get("ranks") or [] if isinstance(r, dict) and "unavailable" not in r]


@check("fleet")
def single_rank(facts, options):
    fleet = _fleet(facts, "cluster")
    if fleet and fleet.get("world_size") == 1:
        yield finding("PD908", "One rank only: the collective check (all-reduce, barrier, bandwidth) "
                               "was not run; this rank's own check was",
                      {"world_size": 1},
                      Fix(["python -m paddle.distributed.launch --nproc_per_node 2 paddledoctor fleet"],
                          "Start two or more ranks to test the collectives."))


@check("fleet")
def ranks_that_did_not_arrive(facts, options):
    fleet = _fleet(facts, "cluster")
    failed = (fleet or {}).get("collective", {}).get("failed") or {}
    behind = failed.get("behind")
    count = failed.get("missing_count")
    if not fleet or not (behind or count):
        return
    where = failed.get("step", "?")
    within = (fleet["collective"].get("join_timeout_s") if where == "join the other ranks"
              else fleet.get("timeout_s"))
    if where == "join the other ranks":
        what = f"did not join the others within {within} s"
    elif failed.get("hung"):
        what = f"stopped responding during '{where}' (its heartbeat in the store stopped)"
    else:
        what = f"stopped in '{where}' ({failed.get('outcome')}: {failed.get('error') or '?'})"
    if not behind:  # a rank other than 0 counts the missing ranks; rank 0 names them (O(N) reads)
        yield finding("PD902", f"{count} rank(s) {what} (rank 0's log names them): hung, crashed, "
                               "or cannot reach the others",
                      {"missing_count": count, "step": where, "outcome": failed.get("outcome"),
                       "seen_from_rank": fleet.get("this_rank"), "world_size": fleet.get("world_size")},
                      Fix([], "Read rank 0's log (log/workerlog.0): it names the ranks that did not "
                              "arrive."))
        return
    yield finding("PD902", f"{_ranks_text(behind)} {what}: hung, crashed, or cannot reach the others",
                  {"ranks": behind, "step": where, "outcome": failed.get("outcome"),
                   "error": failed.get("error"), "seen_from_rank": fleet.get("this_rank"),
                   "world_size": fleet.get("world_size")},
                  Fix([], f"Read the launcher's log of {_ranks_text(behind)} (log/workerlog.N on its "
                          "node) and run `paddledoctor check` there. A rank that is alive but never "
                          "arrives usually cannot reach PADDLE_MASTER (firewall, wrong interface)."))


@check("fleet")
def ranks_that_did_not_report(facts, options):
    """A rank whose own check never finished (or whose report never came) is no passing rank: the
    job fails and the ranks are named. Those PD902 already names (never arrived) are left to it,
    and so are the reports that a failed collective could not gather (PD901/PD902 fail the job)."""
    fleet = _fleet(facts, "cluster")
    if not fleet:
        return
    behind = set((fleet.get("collective", {}).get("failed") or {}).get("behind") or [])
    rows = {r.get("rank"): r for r in fleet.get("ranks") or [] if isinstance(r, dict)}
    world = fleet.get("world_size") or 0
    # The reports were gathered to another rank: this one holds its own alone (PD910 brings the rest)
    partial = fleet.get("reports_at") is not None and fleet.get("reports_at") != fleet.get("this_rank")
    silent = {}
    for r in range(world):
        row = rows.get(r)
        if row is None and partial:
            continue
        if row is None:
            silent[r] = "no row for it in the gathered reports"
        elif "unavailable" in row and "collective check failed" not in str(row["unavailable"]):
            silent[r] = str(row["unavailable"])
    silent = {r: why for r, why in silent.items() if r not in behind}
    if not silent:
        return
    reasons = sorted(set(silent.values()))
    yield finding("PD909", f"{_ranks_text(sorted(silent))} did not report: {'; '.join(reasons)}",
                  {"ranks": sorted(silent), "reasons": silent, "world_size": world},
                  Fix([], f"Read the launcher's log of {_ranks_text(sorted(silent))} (log/workerlog.N "
                          "on its node): its own check ran past the fleet's deadline. Run "
                          "`paddledoctor check` there, or give `paddledoctor fleet` a longer --timeout."))


@check("fleet")
def verdict_of_the_other_ranks(facts, options):
    """A rank other than 0 holds its own report only (the reports go to rank 0); what the others
    found reaches it as the MAX all-reduce of one verdict per rank (2: fails the job, 1: a warning),
    and of a hash of what PD904 compares. So every rank's exit status is the cluster's."""
    fleet = _fleet(facts, "cluster")
    verdict = ((fleet or {}).get("collective") or {}).get("verdict")
    if not fleet or not isinstance(verdict, dict) or fleet.get("reports_at") in (None, fleet.get("this_rank")):
        return
    worst, mine = verdict.get("worst") or 0, verdict.get("mine") or 0
    at = fleet.get("reports_at")
    evidence = {"worst": worst, "this_rank": mine, "environments_differ": verdict.get("environments_differ"),
                "reports_at": at, "world_size": fleet.get("world_size")}
    fix = Fix([f"tail -80 log/workerlog.{at}"],
              f"Read rank {at}'s log on its node: its table names the rank and the finding.")
    if worst >= 2 and mine < 2:
        yield finding("PD910", f"Another rank fails the job (the ranks' verdicts, all-reduced): "
                               f"rank {at}'s log names it", evidence, fix)
    elif worst >= 1 and mine < 1 or verdict.get("environments_differ"):
        what = ("The ranks differ in Paddle, Python or paddledoctor version"
                if verdict.get("environments_differ") else "Another rank has a warning")
        yield finding("PD910", f"{what} (the ranks' verdicts, all-reduced): rank {at}'s log names it",
                      evidence, fix, severity=Severity.WARN)


@check("fleet")
def collective_failed(facts, options):
    fleet = _fleet(facts, "cluster")
    if not fleet or fleet.get("world_size", 0) < 2:
        return
    coll = fleet.get("collective") or {}
    failed = coll.get("failed") or {}
    if failed and not failed.get("behind"):
        yield finding("PD901", f"The collective check failed in '{failed.get('step')}' "
                               f"({failed.get('outcome')}): {failed.get('error') or '?'}",
                      {k: failed.get(k) for k in ("step", "outcome", "error") if failed.get(k)},
                      Fix([], "Run `paddledoctor fleet` again with NCCL_DEBUG=INFO (GPUs) or "
                              "GLOG_v=3 (gloo) and read the failing rank's log/workerlog.N."))
    # Every rank's own sum, as gathered (a wrong sum raises nothing: only its rank sees it).
    sums = {}
    if isinstance(coll.get("all_reduce"), dict):
        sums[fleet.get("this_rank")] = coll["all_reduce"]
    for r in fleet.get("ranks") or []:
        measured = r.get("measured") if isinstance(r, dict) else None
        if isinstance(measured, dict) and isinstance(measured.get("all_reduce"), dict):
            sums.setdefault(r.get("rank"), measured["all_reduce"])
    for rank, ar in sorted(sums.items(), key=lambda kv: kv[0] if isinstance(kv[0], int) else -1):
        if ar.get("ok") is not False:
            continue
        yield finding("PD901", f"The all-reduce of known values gave a wrong result on rank "
                               f"{rank}: {ar.get('wrong_elements')} of "
                               f"{ar.get('elements')} elements wrong",
                      {"rank": rank, "got_head": ar.get("head"),
                       "expected_head": ar.get("expected_head")},
                      Fix([], "A wrong sum without an error points at the interconnect or a GPU: run "
                              "`paddledoctor check` on every node and look for ECC errors (PD304)."))


@check("fleet")
def ranks_whose_own_check_failed(facts, options):
    fleet = _fleet(facts, "cluster")
    if not fleet:
        return
    for r in _reported(fleet):
        errors = [f for f in r.get("findings") or [] if f.get("severity") == "error"
                  and f.get("area") != "fleet"]
        op = (r.get("measured") or {}).get("device_op") or {}
        if op.get("ok") is False:
            errors.append({"code": "device op:", "title": f"on {op.get('device')} it "
                                                     f"{'raised: ' + op['error'] if op.get('error') else 'gave a wrong result'}"})
        if not errors:
            continue
        first_fix = next((f.get("fix") for f in errors if f.get("fix")), None) or {}
        what = "; ".join(f"{f['code']} {f['title']}" for f in errors)
        yield finding("PD903", f"rank {r['rank']} ({r.get('host')}, {r.get('device')}): {what}",
                      {"rank": r["rank"], "host": r.get("host"), "device": r.get("device"),
                       "codes": [f["code"] for f in errors]},
                      Fix(list(first_fix.get("commands") or []),
                          (first_fix.get("text") or "") + " Run `paddledoctor check` on that node for "
                                                          "the whole report."))


@check("fleet")
def ranks_differ(facts, options):
    fleet = _fleet(facts, "cluster")
    if not fleet:
        return
    for key, label in (("paddle", "Paddle version"), ("build", "Paddle build"),
                       ("python", "Python version"), ("doctor", "paddledoctor version")):
        text = differences(_reported(fleet), lambda r: (r.get("figures") or {}).get(key))
        if text:
            yield finding("PD904", f"The ranks differ in {label}: {text}", {"figure": key},
                          Fix([], "Install the same environment (image) on every node."))


@check("fleet")
def shared_dir_is_shared(facts, options):
    fleet = _fleet(facts, "cluster")
    if not fleet:
        return
    seen = set()
    for r in _reported(fleet):
        sd = (r.get("measured") or {}).get("shared_dir")
        if not isinstance(sd, dict):
            continue
        if sd.get("write_error"):
            key = (r["rank"], "write")
            if key not in seen:
                seen.add(key)
                yield finding("PD907", f"rank {r['rank']} ({r.get('host')}) cannot write to "
                                       f"{sd.get('dir')}: {sd['write_error']}",
                              {"rank": r["rank"], "dir": sd.get("dir"), "error": sd["write_error"]},
                              _mount_fix(sd.get("dir")))
        if sd.get("does_not_see"):
            who = "the other ranks'" if r["rank"] == 0 else "rank 0's"
            yield finding("PD907", f"rank {r['rank']} ({r.get('host')}) does not see {who} files in "
                                   f"{sd.get('dir')} (missing: {_ranks_text(sd['does_not_see'])}): "
                                   "this folder is not one shared filesystem",
                          {"rank": r["rank"], "dir": sd.get("dir"), "missing": sd["does_not_see"]},
                          _mount_fix(sd.get("dir")))


def _mount_fix(directory) -> Fix:
    return Fix([f"findmnt -T {directory}", f"df -h {directory}"],
               "Mount the shared filesystem on every node (an unmounted mount point is an empty local "
               "folder, so each node writes its own checkpoints).")


@check("fleet")
def rank_findings_of_the_launcher(facts, options):
    """PD905/PD906 found by the ranks, once for the cluster."""
    fleet = _fleet(facts, "cluster")
    if not fleet:
        return
    for r in _reported(fleet):
        for f in r.get("findings") or []:
            if f.get("code") in ("PD905", "PD906"):
                fix = f.get("fix") or {}
                yield finding(f["code"], f["title"], {"first_seen_on_rank": r["rank"]},
                              Fix(list(fix.get("commands") or []), fix.get("text") or ""),
                              severity=Severity(f.get("severity", "warn")))


def differences(reports: list[dict], value) -> str:
    """'rank 5: CPU; the others: CUDA 12.6' (or each value's ranks when no value is the majority);
    '' when every rank has the same value."""
    groups: dict = {}
    for r in reports:
        groups.setdefault(str(value(r)), []).append(r["rank"])
    if len(groups) < 2:
        return ""
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[1]))
    common, common_ranks = ordered[0]
    if len(common_ranks) * 2 > len(reports):
        parts = [f"{_ranks_text(ranks)}: {v}" for v, ranks in ordered[1:]]
        return "; ".join(parts) + f"; the others: {common}"
    return "; ".join(f"{_ranks_text(ranks)}: {v}" for v, ranks in ordered)


@summary("fleet")
def summarize(facts, options):
    fleet = F.get(facts, "fleet")
    if not isinstance(fleet, dict):
        return "hidden", ""
    if fleet.get("scope") == "rank":
        launch = fleet.get("launch") or {}
        return "ok", (f"rank {launch.get('rank')} of {launch.get('world_size')}"
                      f" (backend {launch.get('backend') or 'nccl'})")
    world = fleet.get("world_size")
    if fleet.get("reports_at") not in (None, fleet.get("this_rank")):
        return "ok", (f"rank {fleet.get('this_rank')} of {world}; the reports went to rank "
                      f"{fleet['reports_at']}, backend {fleet.get('backend')}")
    got = len(_reported(fleet))
    return "ok", f"{got} of {world} rank(s) reported, backend {fleet.get('backend')}"
