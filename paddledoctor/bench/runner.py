"""The bench's probes: run the child scripts in turn, each with what is left of the deadline, inside
a temporary folder of our own under --dir, and gather what they report into facts["bench"].

The parent never imports paddle or numpy. It owns the temporary folder and removes it whatever
happens (a child killed at the deadline, a crash, disk full, Ctrl-C), so nothing is left behind and
nothing of the user's is touched. Everything that goes wrong becomes a fact (a failure record or
an Unavailable with the reason) for the checks in paddledoctor/checks/bench.py to judge.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from ..model import Unavailable
from ..sizes import format_size

CHILDREN = Path(__file__).resolve().parent / "children"  # the bench's child scripts (package data)
DISK_MIN, DISK_MAX = 4 << 20, 1 << 30  # bytes the disk-limit probe writes: the size, within these
BASELINE_RSS = 768 << 20                 # paddle imported, before any tensor
STATE_COPIES = 8   # params + 2 Adam moments live, + a pickled copy at save / a loaded copy + a fresh model
ASYNC_RUNS = 8
WRITE_ERRNOS = {"ENOSPC", "EFBIG", "EROFS", "EACCES", "EPERM", "EDQUOT", "ENOTDIR", "ENOENT", "EIO"}

Progress = Callable[[str, str], None]  # (part, stage) -> None


def memory_available() -> dict:
    """What this process may still allocate: the OS's available memory (psutil: Linux, macOS,
    Windows alike), and the cgroup's room where it has a limit (which psutil does not see)."""
    out: dict = {}
    try:
        import psutil
        vm = psutil.virtual_memory()
        out["available"], out["total"] = int(vm.available), int(vm.total)
    except Exception as exc:  # noqa: BLE001 - psutil missing, or a platform it cannot read
        return {"unavailable": f"cannot read the available memory: {type(exc).__name__}: {exc}"}
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file, encoding="ascii") as f:
                limit = f.read().strip()
            with open(usage_file, encoding="ascii") as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < (1 << 60):
            out["cgroup_limit"] = int(limit)
            out["cgroup_room"] = max(0, int(limit) - usage)
        break
    return out


def memory_needed(size: int) -> int:
    return STATE_COPIES * size + BASELINE_RSS


def plan(size: int, short: bool) -> list[dict]:
    """The children, in order: the disk's limit first (nothing else running), then paddle."""
    parts = [{"part": "disk", "script": "bench_disk.py", "title": "disk limit"},
             {"part": "checkpoint", "script": "bench_paddle.py",
              "title": f"dygraph checkpoint ({format_size(size)} of parameters)"}]
    if not short:
        parts.append({"part": "formats", "script": "bench_paddle.py",
                      "title": "resume, static, inference, jit, async_save (small models)"})
    return parts


def run_bench(size: int = 256 << 20, directory: str | os.PathLike | None = None,
              device: str = "auto", timeout: float = 600.0, project: int | None = None,
              short: bool = False, progress: Progress | None = None,
              async_runs: int = ASYNC_RUNS) -> dict:
    """The checkpoint round trip on this machine: returns facts["bench"]. Never raises for what the
    machine does (unwritable --dir, disk full, a crash, a hang): those become facts. Ctrl-C
    (KeyboardInterrupt) propagates, after the children are killed and the temporary folder removed."""
    t0 = time.monotonic()
    directory = os.path.abspath(os.fspath(directory) if directory is not None else tempfile.gettempdir())
    facts: dict = {
        "options": {"size": size, "size_text": format_size(size), "dir": directory, "device": device,
                    "project": project, "timeout_s": timeout, "short": short},
        "failures": [],
    }
    memory = memory_available()
    needed = memory_needed(size)
    room = [v for k, v in memory.items() if k in ("available", "cgroup_room")]
    memory["needed"] = needed
    memory["fits"] = (min(room) >= needed) if room else None
    facts["memory"] = memory
    if memory["fits"] is False:
        facts["failures"].append({
            "stage": "memory check", "kind": "memory",
            "error": f"--size {format_size(size)} needs about {format_size(needed)} of memory "
                     f"({STATE_COPIES}x the parameters: the model, Adam's two moments, and a copy "
                     f"while saving or loading); {format_size(min(room))} is available"})
        _skip_all(facts, size, short, "refused before allocating: not enough memory")
        facts["seconds"] = time.monotonic() - t0
        return facts

    try:
        temp = tempfile.mkdtemp(prefix="paddledoctor-bench-", dir=directory)
    except OSError as exc:
        facts["failures"].append({
            "stage": "create the bench's folder", "kind": "write",
            "errno": errno.errorcode.get(exc.errno or 0, str(exc.errno)),
            "error": f"cannot create a folder in {directory}: {exc.strerror or exc}"})
        _skip_all(facts, size, short, f"{directory} is not writable")
        facts["seconds"] = time.monotonic() - t0
        return facts
    facts["temp_dir"] = temp
    try:
        _run_children(facts, temp, size, device, short, t0 + timeout, progress, async_runs)
        efficiency(facts)
        if project:
            facts["projection"] = projection(facts, project)
    except OSError as exc:  # our own folder vanished or filled up between the parts
        facts["failures"].append({
            "stage": "bench folder", "kind": "write",
            "errno": errno.errorcode.get(exc.errno or 0, str(exc.errno)),
            "error": f"{type(exc).__name__}: {exc.strerror or exc}"})
    finally:  # also on Ctrl-C: the children are dead by now (isolate kills their group)
        shutil.rmtree(temp, ignore_errors=True)
        facts["cleanup"] = {"temp_dir": temp, "removed": not os.path.exists(temp)}
        facts["seconds"] = time.monotonic() - t0
    return facts


def _skip_all(facts: dict, size: int, short: bool, why: str) -> None:
    for part in plan(size, short):
        for key in _KEYS[part["part"]]:
            facts[key] = Unavailable(f"not run: {why}")


_KEYS = {"disk": ["disk"], "checkpoint": ["device", "dygraph", "safetensors"],
         "formats": ["resume", "static", "inference", "jit", "async_save"]}


def _run_children(facts: dict, temp: str, size: int, device: str, short: bool, deadline: float,
                  progress: Progress | None, async_runs: int) -> None:
    stop_reason = None
    for part in plan(size, short):
        name = part["part"]
        if stop_reason is None and deadline - time.monotonic() < 1:
            stop_reason = "the bench's deadline had passed"
            facts["failures"].append({
                "stage": f"{part['title']} (not started)", "part": name, "kind": "deadline",
                "error": f"the bench's deadline passed before the {part['title']} step could start"})
        if stop_reason:
            for key in _KEYS[name]:
                facts.setdefault(key, Unavailable(f"not run: {stop_reason}"))
            continue
        work = os.path.join(temp, name)
        os.mkdir(work)
        args = {"part": name, "dir": work, "bytes": size, "device": device,
                "async_runs": async_runs, "peer": not short}
        if name == "disk":
            args["bytes"] = max(DISK_MIN, min(size, DISK_MAX))
        result = _run_child(part, args, deadline - time.monotonic(), temp, progress)
        _absorb(facts, name, result)
        if short and name == "checkpoint" and not isinstance(facts.get("dygraph"), Unavailable):
            facts["safetensors"] = Unavailable("not run: the short bench leaves the peer out")
        shutil.rmtree(work, ignore_errors=True)  # room for the next part
        device_facts = facts.get("device")
        if isinstance(device_facts, dict) and device_facts.get("usable") is False:
            stop_reason = f"device {device} is not usable"
        if any(f.get("kind") == "write" for f in facts["failures"]):
            stop_reason = "a write failed: " + next(
                f["error"] for f in facts["failures"] if f.get("kind") == "write")
        elif any(f.get("kind") in ("timeout", "crash") for f in facts["failures"]):
            stop_reason = "an earlier part crashed or hung"


def _run_child(part: dict, args: dict, timeout: float, temp: str, progress: Progress | None):
    """One child with a deadline. With a progress callback, the child's "stage" lines are also
    appended to a file in our temp folder, which this thread reads while the children's loop drains
    the child."""
    from ..probes import isolate

    env = dict(os.environ)
    status = os.path.join(temp, f"{part['part']}.stages")
    env["PADDLEDOCTOR_BENCH_STAGES"] = status
    env.setdefault("GLOG_minloglevel", "2")  # Paddle's C++ info lines are noise here
    child = isolate.Child(str(CHILDREN / part["script"]), [json.dumps(args)],
                          timeout=max(timeout, 1.0), env=env)
    if progress is None:
        try:
            return child.wait()
        finally:
            child.kill()
    seen = 0
    try:
        progress(part["part"], part["title"])
        while not child.done():
            child.wait(0.1)  # the loop drains and judges the child meanwhile
            try:
                with open(status, encoding="utf-8") as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            for line in lines[seen:]:
                progress(part["part"], line)
            seen = len(lines)
        return child.wait()
    finally:
        child.kill()  # Ctrl-C or a stop signal lands here: the group dies and is reaped


def _absorb(facts: dict, name: str, result) -> None:
    """A child's events into facts; how it ended, when it did not end well, into a failure."""
    for event in result.events:
        kind = event.get("event")
        if kind == "result":
            facts[event["key"]] = event["value"]
        elif kind == "failure":
            code = event.get("errno")
            facts["failures"].append({
                "stage": event.get("stage"), "part": name,
                "kind": "write" if code in WRITE_ERRNOS else "error",
                "errno": code, "error": event.get("error"),
                "traceback": event.get("traceback")})
        elif kind == "import":
            facts.setdefault("paddle", {"version": event.get("version"),
                                        "import_s": event.get("seconds")})
    how = result.failure()
    if how:
        stage = result.last("stage")
        where = stage.get("name") if stage else "start"
        facts["failures"].append({
            "stage": where, "part": name,
            "kind": "timeout" if result.timed_out else "crash",
            "error": f"the {name} child {how} during: {where}",
            "stderr": result.stderr[-1500:]})
    elif not result.last("done") and name != "disk" and not any(
            f.get("part") == name for f in facts["failures"]) and not (
            isinstance(facts.get("device"), dict) and facts["device"].get("usable") is False):
        facts["failures"].append({"stage": "end", "part": name, "kind": "error",
                                  "error": f"the {name} child ended without finishing",
                                  "stderr": result.stderr[-1500:]})
    for key in _KEYS[name]:
        if key not in facts:
            why = _why_missing(facts, name)
            facts[key] = Unavailable(why)


def _why_missing(facts: dict, name: str) -> str:
    device = facts.get("device")
    if isinstance(device, dict) and device.get("usable") is False:
        return f"not run: {device.get('reason')}"
    for failure in reversed(facts["failures"]):
        if failure.get("part") == name:
            return f"not measured: {failure.get('error')}"
    if name == "checkpoint" and facts.get("gpu_memory_refused"):
        return "not run: not enough GPU memory"
    return "not measured"


def check_bench_facts(directory: str | os.PathLike | None = None, timeout: float = 120.0) -> dict:
    """The short round trip of ``paddledoctor check --bench`` (and preflight/fleet): 64 MiB of
    parameters, the disk's limit and the dygraph checkpoint, bit for bit. Never raises (but lets
    Ctrl-C through)."""
    try:
        return run_bench(size=64 << 20, directory=directory, device="auto", timeout=timeout,
                         short=True)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug here must not take the doctor down
        return {"failures": [{"stage": "bench", "kind": "error",
                              "error": f"the bench failed: {type(exc).__name__}: {exc}"}],
                "dygraph": Unavailable(f"the bench failed: {type(exc).__name__}: {exc}")}


def projection(facts: dict, project: int) -> dict:
    """The measured rates and memory applied to the user's real checkpoint size."""
    out: dict = {"bytes": project}
    for key, label in (("dygraph", "paddle"), ("safetensors", "safetensors")):
        entry = facts.get(key)
        if not isinstance(entry, dict):
            continue
        for op in ("save", "load"):
            rate = entry.get(f"{op}_mbps")
            if isinstance(rate, (int, float)) and rate > 0:
                out[f"{label}_{op}_s"] = project / (rate * 1e6)
    disk = facts.get("disk")
    if isinstance(disk, dict) and disk.get("write_mbps"):
        out["disk_write_s"] = project / (disk["write_mbps"] * 1e6)
    dyg = facts.get("dygraph")
    mem = facts.get("memory") if isinstance(facts.get("memory"), dict) else {}
    total = mem.get("cgroup_limit") or mem.get("total")
    if isinstance(dyg, dict) and dyg.get("save_rss_extra") is not None and dyg.get("file_bytes"):
        ratio = dyg["save_rss_extra"] / dyg["file_bytes"]
        on_host = not str(dyg.get("device", "cpu")).startswith("gpu")
        out["save_extra_per_byte"] = ratio
        # On the CPU the state itself is in RAM too; on a GPU only the copy paddle.save makes.
        out["save_memory"] = int(project * ratio + (project if on_host else 0))
        if total:
            out["memory_total"] = total
            out["fits_in_memory"] = out["save_memory"] <= total
    return out


def efficiency(facts: dict) -> None:
    """Each format's rate as a share of the disk's own (save vs write+fsync, load vs cold read)."""
    disk = facts.get("disk")
    if not isinstance(disk, dict):
        return
    for key in ("dygraph", "safetensors"):
        entry = facts.get(key)
        if not isinstance(entry, dict):
            continue
        for op, limit in (("save", disk.get("write_mbps")), ("load", disk.get("read_mbps"))):
            rate = entry.get(f"{op}_mbps")
            if isinstance(rate, (int, float)) and isinstance(limit, (int, float)) and limit > 0:
                entry[f"{op}_efficiency"] = rate / limit
