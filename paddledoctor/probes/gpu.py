"""The two child probes and how their events become facts: NVML (the driver's view of the GPUs) and
the Paddle runtime (import, build, devices, a real training step per device)."""

from __future__ import annotations

from ..model import Unavailable, decode
from .isolate import Child, ChildResult


def start_nvml(timeout: float) -> Child:
    return Child("nvml_probe.py", timeout=timeout)


def nvml_facts(result: ChildResult) -> dict:
    init = result.last("init")
    if init is None:
        return {"status": "probe_failed",
                "error": result.failure() or "the NVML probe said nothing",
                "stderr": result.stderr[-1000:]}
    if not init.get("ok"):
        facts = {"status": "init_failed", "error_kind": init.get("kind"),
                 "error": init.get("message")}
        if "driver_version" in init:
            facts["driver_version"] = decode(init["driver_version"])
        return facts
    facts = {"status": "ok",
             "driver_version": decode(init.get("driver_version")),
             "cuda_driver_version": decode(init.get("cuda_driver_version")),
             "nvml_version": decode(init.get("nvml_version")),
             "gpu_count": init.get("gpu_count", 0),
             "gpus": [decode({k: v for k, v in e.items() if k != "event"})
                      for e in result.events if e.get("event") == "gpu"]}
    if result.last("done") is None:
        # The probe hung or died while querying a GPU: say so, keep what it had said.
        facts["incomplete"] = (f"the NVML probe stopped after {len(facts['gpus'])} of "
                               f"{facts['gpu_count']} GPUs: {result.failure()}")
    return facts


def start_paddle(timeout: float, devices: str = "all") -> Child:
    return Child("paddle_probe.py", args=[devices], timeout=timeout)


def paddle_runtime_facts(result: ChildResult) -> dict:
    facts: dict = {"seconds": round(result.seconds, 3)}
    stage = result.last("stage")
    imported = result.last("import")
    failure = result.failure()
    if imported is None:
        facts["import"] = {"ok": False, "outcome": _outcome(result), "error": failure,
                           "stage": stage["name"] if stage else "start the interpreter",
                           "stderr": result.stderr[-2000:]}
        if result.signal_name:
            facts["import"]["signal"] = result.signal_name
        return facts
    if not imported.get("ok"):
        facts["import"] = {"ok": False, "outcome": "exception", "error": imported.get("error"),
                           "traceback": imported.get("traceback"), "stderr": result.stderr[-2000:]}
        return facts
    facts["import"] = {"ok": True, "seconds": imported.get("seconds"), "file": imported.get("file")}
    error = result.last("error")
    # Why a step is missing: how the child ended, or else the error the probe itself caught.
    why = failure or (error and error.get("error")) or "the probe ended without reporting it"
    build = result.last("build")
    facts["build"] = (decode({k: v for k, v in build.items() if k != "event"}) if build
                      else Unavailable(f"never reported: {why}"))
    devices = result.last("devices")
    facts["devices"] = (decode({k: v for k, v in devices.items() if k != "event"}) if devices
                        else Unavailable(f"stopped in '{stage['name'] if stage else '?'}': {why}"))
    ops = [decode({k: v for k, v in e.items() if k != "event"})
           for e in result.events if e.get("event") == "op"]
    if error:
        facts["probe_error"] = {"error": error.get("error"), "traceback": error.get("traceback")}
    if result.last("done") is None and stage is not None:
        # The child died or hung in the middle of a step: that step is the culprit.
        name = stage["name"]
        if name.startswith("training step on "):
            ops.append({"device": name[len("training step on "):], "outcome": _outcome(result),
                        "error": failure, "signal": result.signal_name})
        facts["stopped_in"] = {"stage": name, "outcome": _outcome(result), "error": failure}
    facts["ops"] = ops
    return facts


def _outcome(result: ChildResult) -> str:
    if result.timed_out:
        return "timeout"
    if result.signal_name:
        return "signal"
    if result.start_error:
        return "not_started"
    return "exited"
