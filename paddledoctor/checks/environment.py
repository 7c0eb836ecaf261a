"""The environment around Paddle, judged from ``facts["environment"]`` (and ``facts["stack"]`` for
which copy of a package pip or conda installed):

- conda: pip and conda copies of one package mixed (PD152), conda's CUDA packages against this
  Paddle's build (PD153), CONDA_PREFIX naming another environment than this python's (PD154);
- containers: no NVIDIA runtime (PD406: no /dev/nvidia*), the devices without the driver's
  libcuda.so.1 mounted (PD407); the container's /dev/shm is PD402 (checks/host.py);
- WSL2: no /dev/dxg (PD408), /usr/lib/wsl/lib off the loader path (PD409), the harmless ldconfig
  warning (PD410), a Linux driver installed inside WSL (PD411).

Sources: NVIDIA Container Toolkit docs (docs.nvidia.com/datacenter/cloud-native/container-toolkit:
``--gpus all`` / ``--runtime=nvidia``, NVIDIA_DRIVER_CAPABILITIES must include ``compute,utility``
for libcuda and libnvidia-ml to be mounted; Paddle #76786); NVIDIA "CUDA on WSL User Guide"
(docs.nvidia.com/cuda/wsl-user-guide: the Windows driver is the only driver, exposed to WSL2 as
/dev/dxg and /usr/lib/wsl/lib; "do not install any NVIDIA GPU Linux driver within WSL 2"; the
``ldconfig: /usr/lib/wsl/lib/libcuda.so.1 is not a symbolic link`` message is a known, harmless
warning, microsoft/WSL #5548; Paddle #78917); conda's own docs on mixing pip and conda
(docs.conda.io "Using pip in an environment"; Paddle #72585).
"""

from __future__ import annotations

from ..model import Fix, Severity
from . import check, finding
from . import facts as F


def _env(facts, key):
    v = F.get(facts, "environment", key)
    return v if isinstance(v, dict) else None


def gpu_expected(facts) -> list[str]:
    """Why this environment expects a GPU (empty: it does not)."""
    why = []
    c = _env(facts, "container") or {}
    nvd = c.get("nvidia_visible_devices")
    if nvd and nvd not in ("void", "none", ""):
        why.append(f"NVIDIA_VISIBLE_DEVICES={nvd}")
    cvd = c.get("cuda_visible_devices")
    if cvd not in (None, "", "-1"):
        why.append(f"CUDA_VISIBLE_DEVICES={cvd}")
    b = F.build(facts)
    if b and b.get("cuda"):
        why.append(f"the Paddle installed is a CUDA {b['cuda']} build")
    nvidia_wheels = [n for n in (F.get(facts, "stack", "versions", default={}) or {})
                     if n.startswith(("nvidia-cudnn", "nvidia-cublas", "nvidia-cuda-runtime"))]
    if nvidia_wheels:
        why.append(f"CUDA library wheels are installed ({', '.join(sorted(nvidia_wheels)[:3])})")
    return why


@check("host")
def container_has_nvidia_runtime(facts, options):
    c = _env(facts, "container")
    if not c or not c.get("in_container"):
        return
    why = gpu_expected(facts)
    if not why or all(w.startswith("CUDA_VISIBLE_DEVICES=") for w in why):
        return  # a CUDA_VISIBLE_DEVICES left in a script is no sign that GPUs were meant here
    if not c.get("nvidia_devices") and not F.nvml_ok(facts):
        # NVML answering means the driver is reachable (it talks to /dev/nvidiactl): whatever the
        # listing of /dev says, the container has its GPUs
        yield finding(
            "PD406", "This container has no /dev/nvidia* devices: it was started without the NVIDIA "
                     f"runtime, although {why[0]}",
            {"container_signs": c.get("signs"), "gpu_expected_because": why,
             "nvidia_devices": [], "libcuda": c.get("libcuda")},
            Fix([], "Start the container with the GPUs: `docker run --gpus all ...` (the NVIDIA "
                    "Container Toolkit installed on the host: nvidia-ctk runtime configure "
                    "--runtime=docker), `podman run --device nvidia.com/gpu=all ...`, or on "
                    "Kubernetes a `nvidia.com/gpu` resource limit. Inside the container nothing can "
                    "fix it."))
    elif not c.get("libcuda") and not F.nvml_ok(facts):
        caps = c.get("nvidia_driver_capabilities")
        yield finding(
            "PD407", "This container has /dev/nvidia* but the driver's libcuda.so.1 is not mounted"
                     + (f" (NVIDIA_DRIVER_CAPABILITIES={caps})" if caps else ""),
            {"nvidia_devices": c["nvidia_devices"], "libcuda": [],
             "nvidia_driver_capabilities": caps, "searched": "/usr/lib/x86_64-linux-gnu, /usr/lib64, "
                                                              "/usr/local/nvidia/lib64, ..."},
            Fix([], "The devices were passed (--device) but not the driver's libraries: use "
                    "`docker run --gpus all` (or --runtime=nvidia) with NVIDIA_DRIVER_CAPABILITIES "
                    "including compute,utility, instead of --device alone."))


@check("host")
def wsl_gpu(facts, options):
    w = _env(facts, "wsl")
    if not w or not w.get("is_wsl"):
        return
    lib = w.get("wsl_lib") or []
    why = gpu_expected(facts)
    if not w.get("wsl2", True) and why:
        yield finding("PD408", "This is WSL 1, which has no GPU access", {"kernel": w.get("kernel")},
                      Fix(["wsl.exe --set-version $WSL_DISTRO_NAME 2"],
                          "Run it in Windows (PowerShell) with the distribution's name; WSL 2 "
                          "reaches the GPU through the Windows driver."))
        return
    if not w.get("dev_dxg"):
        if why:
            yield finding(
                "PD408", "WSL2 has no /dev/dxg: the Windows NVIDIA driver does not expose the GPU "
                         f"to Linux, although {why[0]}",
                {"dev_dxg": False, "wsl_lib": lib, "kernel": w.get("kernel")},
                Fix(["wsl.exe --update"], "Install a current NVIDIA driver for Windows (it brings "
                                          "WSL2 support; do not install a Linux driver inside WSL), "
                                          "update WSL, then `wsl.exe --shutdown` and reopen."))
        return
    linux_driver = [p for p in (F.get(facts, "environment", "container", "libcuda") or [])
                    if not p.startswith("/usr/lib/wsl/")]
    if linux_driver:
        yield finding(
            "PD411", f"A Linux NVIDIA driver is installed inside WSL2 ({linux_driver[0]}): it "
                     "shadows the Windows driver's /usr/lib/wsl/lib/libcuda.so.1",
            {"linux_libcuda": linux_driver, "wsl_lib": lib},
            Fix([], "Remove the Linux driver packages inside WSL (e.g. `sudo apt purge 'nvidia-*'` "
                    "keeping cuda-toolkit, or the libnvidia-compute package that brought "
                    f"{linux_driver[0]}); WSL2 uses the Windows driver only."))
    if "libcuda.so.1" in lib and not w.get("wsl_lib_on_loader_path"):
        yield finding(
            "PD409", "WSL2: /usr/lib/wsl/lib (the Windows driver's libcuda.so.1) is not on the "
                     "loader's path",
            {"wsl_lib": lib, "ld_so_conf": w.get("ld_so_conf")},
            Fix(["echo /usr/lib/wsl/lib | sudo tee /etc/ld.so.conf.d/ld.wsl.conf",
                 "sudo ldconfig"], "WSL normally writes this file itself; restore it (or export "
                                   "LD_LIBRARY_PATH=/usr/lib/wsl/lib)."))
    elif "libcuda.so.1" in lib:
        yield finding(
            "PD410", "WSL2: the GPU is reached through /dev/dxg and /usr/lib/wsl/lib; the warning "
                     "'ldconfig: /usr/lib/wsl/lib/libcuda.so.1 is not a symbolic link' is harmless",
            {"dev_dxg": True, "wsl_lib": lib}, severity=Severity.INFO)


_PY_PACKAGES = ("paddlepaddle", "paddlepaddle-gpu", "numpy", "protobuf")


@check("paddle")
def conda_and_pip_mixed(facts, options):
    c = _env(facts, "conda")
    if not c or not c.get("is_conda"):
        return
    if c.get("note"):
        yield finding("PD154", c["note"],
                      {"CONDA_PREFIX": c.get("active_prefix"), "this_python_prefix": c.get("prefix")},
                      Fix([], "Run the environment's own python (`conda activate ENV` then "
                              "`python -m paddledoctor check`), or deactivate the other one."))
    records = {r["name"]: r for r in c.get("records") or []}
    dists = F.get(facts, "stack", "distributions", default={}) or {}
    mixed = []
    for name in _PY_PACKAGES:
        rec, d = records.get(name), dists.get(name)
        if rec and d and (d.get("installer") not in (None, "conda") or
                          d.get("version") != rec["version"]):
            mixed.append({"package": name, "conda": f"{rec['version']} ({rec.get('channel')})",
                          "on_disk": f"{d.get('version')} (installed by {d.get('installer')})"})
    if "paddlepaddle" in records and "paddlepaddle-gpu" in dists or (
            "paddlepaddle-gpu" in records and "paddlepaddle" in dists):
        conda_name = "paddlepaddle" if "paddlepaddle" in records else "paddlepaddle-gpu"
        other = "paddlepaddle-gpu" if conda_name == "paddlepaddle" else "paddlepaddle"
        mixed.append({"package": f"{conda_name} (conda) and {other} (pip)",
                      "conda": records[conda_name]["version"],
                      "on_disk": dists[other].get("version")})
    if mixed:
        names = sorted({m["package"].split()[0] for m in mixed})
        yield finding(
            "PD152", f"conda and pip copies of {', '.join(names)} are mixed in the conda "
                     f"environment {c.get('prefix')}",
            {"mixed": mixed, "prefix": c.get("prefix")},
            Fix([f"conda remove --force -y {' '.join(names)}",
                 f"{F.pip(facts)} install --force-reinstall --no-deps "
                 + " ".join(f"{m['package'].split()[0]}=={m['on_disk'].split()[0]}"
                            for m in mixed if m["on_disk"] and m["on_disk"][0].isdigit())],
                "conda no longer knows which files are its own: remove conda's record and keep the "
                "pip copy (or the reverse: `pip uninstall` and `conda install --force-reinstall`). "
                "Install Paddle with one tool per environment."))


@check("paddle")
def conda_cuda_matches_build(facts, options):
    c = _env(facts, "conda")
    b = F.build(facts)
    if not c or not c.get("is_conda") or not b or not b.get("cuda"):
        return
    records = {r["name"]: r for r in c.get("records") or []}
    problems = []
    toolkit = records.get("cudatoolkit") or records.get("cuda-cudart") or records.get("cuda-version")
    if toolkit:
        have = toolkit["version"].split(".")[:2]
        want = str(b["cuda"]).split(".")[:2]
        if have[0] != want[0]:
            problems.append(f"conda's {toolkit['name']} {toolkit['version']} is CUDA {have[0]}, this "
                            f"Paddle is a CUDA {b['cuda']} build")
    cudnn = records.get("cudnn")
    if cudnn and b.get("cudnn"):
        if cudnn["version"].split(".")[0] != str(b["cudnn"]).split(".")[0]:
            problems.append(f"conda's cudnn {cudnn['version']} is another major than the cuDNN "
                            f"{b['cudnn']} this Paddle was built with")
    if problems:
        yield finding(
            "PD153", problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            {"problems": problems, "prefix": c.get("prefix"),
             "records": [r for r in c.get("records") or [] if r["name"] in
                         ("cudatoolkit", "cuda-cudart", "cuda-version", "cudnn", "nccl")]},
            Fix([], f"{c.get('prefix')}/lib comes first for this environment's python, so these "
                    "libraries shadow the ones Paddle's wheel expects: install the conda packages "
                    f"for CUDA {b['cuda']} (`conda install cudatoolkit={b['cuda']}` or "
                    f"`cuda-version={b['cuda']}`), or remove them and let pip's nvidia-* wheels serve."),
            severity=Severity.WARN)
