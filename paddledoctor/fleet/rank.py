"""One rank of `paddledoctor fleet`: the process the launcher starts (never imports paddle).

It starts the collective child (probes/children/fleet_collective.py, under a deadline) at once, and
while that child imports paddle and joins the other ranks, runs this rank's own check here (the
static check, or ``--full``; the job's requirements; a checkpoint round trip into ``--dir`` when
``bench`` is asked). The rank's report (compact JSON) goes to the child through a file; the child
all-gathers every rank's report, so that every rank knows the cluster's verdict and exits non-zero
when any rank failed (and the launcher stops the job); rank 0 prints the cluster table.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field

from .. import __version__
from ..model import Report, Severity, Unavailable

DEFAULT_TIMEOUT = 60.0
DEFAULT_SIZES = (64 << 10, 1 << 20, 16 << 20)


class NotLaunched(ValueError):
    """Not started by paddle.distributed.launch (no rank in the environment)."""


@dataclass
class Launch:
    """What the launcher told this rank, from its environment variables (Paddle 3.x names)."""

    rank: int
    world_size: int
    local_rank: int
    local_size: int
    nnodes: int
    master: str | None
    backend: str | None
    selected_gpus: str | None
    cuda_visible_devices: str | None
    log_dir: str | None
    backup_env_path: str | None
    endpoints: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"rank": self.rank, "world_size": self.world_size, "local_rank": self.local_rank,
                "local_size": self.local_size, "nnodes": self.nnodes, "backend": self.backend,
                "selected_gpus": self.selected_gpus,
                "cuda_visible_devices": self.cuda_visible_devices, "log_dir": self.log_dir,
                "backup_env_path": self.backup_env_path, "master_set": bool(self.master)}


def launch_env(env: "dict | os._Environ" = os.environ) -> Launch:
    def num(name, default=None):
        value = env.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise NotLaunched(f"{name}={value!r} is not a number") from None

    rank, world = num("PADDLE_TRAINER_ID"), num("PADDLE_TRAINERS_NUM")
    if rank is None or world is None:
        raise NotLaunched(
            "not started by Paddle's launcher (PADDLE_TRAINER_ID / PADDLE_TRAINERS_NUM are not set); "
            "run: python -m paddle.distributed.launch --nproc_per_node N paddledoctor fleet")
    if not 0 <= rank < world:
        raise NotLaunched(f"PADDLE_TRAINER_ID={rank} is not below PADDLE_TRAINERS_NUM={world}")
    endpoints = [e for e in (env.get("PADDLE_TRAINER_ENDPOINTS") or "").split(",") if e]
    return Launch(rank=rank, world_size=world,
                  local_rank=num("PADDLE_LOCAL_RANK", num("PADDLE_RANK_IN_NODE", 0)),
                  local_size=num("PADDLE_LOCAL_SIZE", 1), nnodes=num("PADDLE_NNODES", 1),
                  master=env.get("PADDLE_MASTER"), backend=env.get("PADDLE_DISTRI_BACKEND"),
                  selected_gpus=env.get("FLAGS_selected_gpus"),
                  cuda_visible_devices=env.get("CUDA_VISIBLE_DEVICES"),
                  log_dir=env.get("PADDLE_LOG_DIR"), backup_env_path=env.get("PADDLE_BACKUP_ENV_PATH"),
                  endpoints=endpoints)


def host_label() -> str:
    """This host as reports name it: a stable label that ranks on one host share, not its name."""
    from ..redaction import host_label as label

    return label(socket.gethostname())


def env_on_disk(launch: Launch, env: "dict | os._Environ" = os.environ) -> dict:
    """The launcher writes every rank's full environment to log_dir/envlog.N and backup_env.N.json.
    Which secret-looking variables (names only, never values) are in it."""
    from ..redaction import secret_name

    files = []
    if launch.log_dir:
        files.append(os.path.join(launch.log_dir, f"envlog.{launch.local_rank}"))
    if launch.backup_env_path:
        files.append(launch.backup_env_path)

    def looks_secret(name: str, value: str) -> bool:
        # A variable that names a file (SSL_CERT_FILE=/etc/ssl/...) points at a secret; it is none.
        return secret_name(name) and not (value.startswith("/") and os.path.exists(value))

    return {"files": [f for f in files if os.path.exists(f)],
            "secret_names": sorted(k for k, v in env.items() if looks_secret(k, v))}


def rank_facts(launch: Launch) -> dict:
    return {"scope": "rank", "launch": launch.to_json(), "env_on_disk": env_on_disk(launch)}


def _figures(report: Report) -> dict:
    from ..checks import facts as F

    b = F.build(report.facts) or {}
    if b.get("cuda"):
        build = f"CUDA {b['cuda']}"
    elif b.get("rocm"):
        build = "ROCm"
    elif b.get("xpu"):
        build = "XPU"
    else:
        build = "CPU" if b else "not installed"
    figures = {"paddle": b.get("version"), "build": build,
               "python": F.get(report.facts, "host", "python", "version"),
               "doctor": __version__, "nvml_gpus": F.nvml_gpu_count(report.facts)}
    dygraph = F.get(report.facts, "bench", "dygraph")
    if isinstance(dygraph, dict) and "exact" in dygraph:  # the round trip into --dir (bench)
        figures["checkpoint"] = ("ckpt round trip " + ("exact" if dygraph["exact"] else "NOT exact")
                                 + (f", save {dygraph['save_mbps']:.0f} MB/s"
                                    if isinstance(dygraph.get("save_mbps"), (int, float)) else ""))
    elif isinstance(report.facts.get("bench"), Unavailable):
        figures["checkpoint"] = "ckpt round trip not run"
    return figures


def rank_report(report: Report, launch: Launch, strict: bool = False) -> dict:
    """A rank's report as it travels to the others: small (a few hundred bytes to a few KiB)."""
    worst = report.worst
    return {
        "rank": launch.rank, "local_rank": launch.local_rank, "host": host_label(),
        "device": f"gpu:{launch.selected_gpus.split(',')[0]}" if launch.selected_gpus else "cpu",
        "verdict": "error" if worst is Severity.ERROR else "warn" if worst is Severity.WARN else "ok",
        "exit_code": report.exit_code(strict),
        "figures": _figures(report),
        "findings": [{"code": f.code, "severity": f.severity.value, "area": f.area, "title": f.title,
                      "fix": f.fix.to_json() if f.fix else None} for f in report.findings],
    }


def _write_atomic(path: str, data: bytes) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _child_env(launch: Launch, cpu_build: bool, timeout: float) -> dict:
    env = dict(os.environ)
    # How long rank 0's process-group store waits for the others in init_parallel_env (holding the
    # GIL: no deadline of ours runs meanwhile). Every rank has joined by then; a rank that dies in
    # between makes it fail in this time, with the store naming who never got there.
    env["FLAGS_stop_check_timeout"] = str(max(5, int(timeout * 0.3)))
    if cpu_build and (launch.backend or "") != "gloo":
        # The launcher took this for a GPU job (CUDA_VISIBLE_DEVICES set, PD905): gloo still tests
        # the network, and PD905 says why the real job would fail.
        env["PADDLE_DISTRI_BACKEND"] = "gloo"
    return env


def run_rank(settings: dict, directory: str | None = None, timeout: float = DEFAULT_TIMEOUT,
             sizes=DEFAULT_SIZES, full: bool = False, env=os.environ,
             on_report=None) -> Report:
    """This rank's part of the fleet check; returns the cluster report (as this rank sees it).
    ``on_report(report)`` is called as soon as the report is made (to print it), before a failing
    rank other than 0 waits for rank 0 to finish (see below)."""
    from ..checks import facts as F
    from ..doctor import diagnose
    from ..preflight import check_with
    from ..probes.isolate import Child

    launch = launch_env(env)
    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="paddledoctor-fleet-")
    report_path = os.path.join(workdir, "report.json")
    from ..probes import installed
    try:
        static_build = F.build({"paddle": installed.probe_paddle_package()})
    except Exception:  # noqa: BLE001 - judged again, with the reason, by the rank's own check
        static_build = None
    cfg = {"rank": launch.rank, "world_size": launch.world_size, "report_path": report_path,
           # the steps' deadline leaves time to name a hung rank (~2 s) before the child is killed
           "join_s": round(timeout * 0.5, 1), "collective_s": round(timeout - max(3.0, timeout * 0.1), 1),
           "sizes": [int(s) for s in sizes], "dir": directory}
    child = Child("fleet_collective.py", [json.dumps(cfg)], timeout=timeout,
                  env=_child_env(launch, F.is_cpu_build(static_build), timeout))
    try:
        local = dict(settings)
        local["quick"] = not full
        local["timeout"] = min(float(local.get("timeout") or timeout), timeout * 0.8)
        if directory and local.get("bench") and not local.get("checkpoint_dir"):
            local["checkpoint_dir"] = directory  # the round trip goes into the shared folder
        report = check_with(local)
        facts = dict(report.facts)
        facts["fleet"] = rank_facts(launch)
        report = diagnose(facts, report.options, mode=report.mode)
        mine = rank_report(report, launch, bool(settings.get("strict")))
        _write_atomic(report_path, json.dumps(mine, separators=(",", ":")).encode("utf-8"))
        result = child.wait()
    finally:  # also on a stop signal: the child's group dies, then what it left in --dir goes
        child.kill()
        remove_markers(child.wait(5))
        shutil.rmtree(workdir, ignore_errors=True)
    collective = collective_facts(result, launch, cfg)
    ranks = collective.pop("reports", None)
    if not ranks:
        # What this rank measured itself still goes in its own row.
        mine["measured"] = {k: v for k, v in (
            ("device_op", {k2: v2 for k2, v2 in (collective.get("device") or {}).items() if k2 != "t"}
             or None),
            ("all_reduce", collective.get("all_reduce")),
            ("bandwidth", (collective.get("bandwidth") or {}).get("rows"))) if v}
        ranks = [mine] + [{"rank": r, "unavailable": "its report was not gathered (the collective "
                                                     "check failed)"}
                          for r in range(launch.world_size) if r != launch.rank]
    cluster = {"fleet": {"scope": "cluster", "world_size": launch.world_size,
                         "this_rank": launch.rank, "nnodes": launch.nnodes,
                         "backend": "gloo" if F.is_cpu_build(static_build) else (launch.backend or "nccl"),
                         "timeout_s": timeout, "ranks": sorted(ranks, key=lambda r: r.get("rank", 0)),
                         "collective": collective, "seconds": round(time.monotonic() - t0, 3)}}
    options = {"strict": bool(settings.get("strict")), "fleet": True, "timeout": timeout,
               "dir": directory}
    report = diagnose(cluster, options, mode="fleet", areas=["fleet"])
    if on_report is not None:
        on_report(report)
    if launch.rank != 0 and report.exit_code(options["strict"]):
        # The launcher stops the whole job as soon as one rank exits with an error: leaving now could
        # kill rank 0 before it has printed the table. Rank 0 is done in moments when the reports were
        # gathered; when they were not, it waits for the missing ranks until its deadline.
        until = t0 + timeout if collective.get("failed") else time.monotonic() + 2
        try:
            time.sleep(max(0.0, until - time.monotonic()))
        except KeyboardInterrupt:  # the launcher's SIGTERM: this rank's verdict is already out
            pass
    return report


def remove_markers(result) -> list[str]:
    """This rank's marker in the shared --dir, and the marker folder when no other rank's marker
    is left in it: what a killed collective child could not remove itself. Returns what was removed."""
    removed = []
    for event in result.events:
        if event.get("event") != "marker":
            continue
        path, folder = event.get("path"), event.get("folder")
        if not (isinstance(path, str) and isinstance(folder, str)
                and os.path.basename(folder).startswith(".paddledoctor-fleet-")
                and os.path.dirname(path) == folder):
            continue  # only what the child said it made, and only of that shape
        for target, remove in ((path, os.unlink), (folder, os.rmdir)):
            try:
                remove(target)
                removed.append(target)
            except OSError:  # gone already, or another rank's marker is still in the folder
                pass
    return removed


def collective_facts(result, launch: Launch, cfg: dict) -> dict:
    """The collective child's events as facts; how it ended when it did not end well."""
    facts: dict = {"seconds": round(result.seconds, 3), "join_timeout_s": cfg["join_s"],
                   # when each step started, seconds after the child did: where the time goes
                   "timeline": [[e.get("name"), e.get("t")] for e in result.events
                                if e.get("event") == "stage"]
                   + [["done", e.get("t")] for e in result.events if e.get("event") == "done"]}
    for kind in ("device", "joined", "all_reduce", "barrier", "bandwidth", "shared_dir", "single",
                 "import"):
        event = result.last(kind)
        if event is not None:
            facts[kind] = {k: v for k, v in event.items() if k not in ("event",)}
    reports = result.last("reports")
    if reports is not None:
        facts["reports"] = reports.get("reports")
    failed = result.last("failed")
    if failed is not None:
        facts["failed"] = {k: v for k, v in failed.items() if k != "event"}
        if failed.get("step") == "import paddle":
            facts["failed"]["behind"] = [launch.rank]
    elif result.last("done") is None:
        stage = result.last("stage")
        step = stage["name"] if stage else "start the interpreter"
        facts["failed"] = {"step": step,
                           "outcome": "timeout" if result.timed_out else "crash",
                           "error": result.failure() or "ended without a word",
                           "stderr": result.stderr[-1500:],
                           # Dead before it could meet the others: this rank is the one missing.
                           "behind": [launch.rank] if result.last("joined") is None else None}
    return facts


__all__ = ["run_rank", "launch_env", "NotLaunched", "Launch"]
