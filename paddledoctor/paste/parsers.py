"""One parser per kind of text users paste; each reads the cleaned lines (:mod:`.text`) and records
what it found in an :class:`Observations`, with the lines it came from.

The formats, and where their exact strings come from:
- ``nvidia-smi``: the table (header ``NVIDIA-SMI x  Driver Version: x  CUDA Version: x``, one row
  pair per GPU, the ``Processes:`` table), the 2025+ header (``KMD Version`` / ``CUDA UMD
  Version``), ``nvidia-smi -q`` (``==============NVSMI LOG==============``, ``Driver Version :``,
  ``Product Name :``, ``FB Memory Usage``) and ``nvidia-smi -L`` (``GPU 0: name (UUID: ...)``);
  samples in tests/paste/samples/.
- ``pip list`` (``Package Version`` header), ``pip freeze`` (``name==version``), ``pip show``
  (``Name:`` / ``Version:``) and ``conda list`` (``# Name Version Build Channel``).
- ``paddle.utils.run_check()``: python/paddle/utils/install_check.py (``Running verify
  PaddlePaddle program ...``, ``PaddlePaddle works well on 1 GPU.``, ``PaddlePaddle works well on
  {n} GPUs.``, ``PaddlePaddle is installed successfully!``, ``...successfully ONLY for single GPU``,
  ``You are using GPU version PaddlePaddle, but there is no GPU detected on your machine.``);
  1.x ``fluid.install_check``: ``Your Paddle works well on SINGLE GPU or CPU.``; the glog line of
  paddle/phi/backends/gpu/gpu_resources.cc (``Please NOTE: device: 0, GPU Compute Capability: 8.6,
  Driver API Version: 12.2, Runtime API Version: 11.8``; before 2.0 ``CUDA Capability: 70``).
- ``paddle.version.show()``: python/paddle/version/__init__.py (``full_version:``, ``commit:``,
  ``cuda:``, ``cudnn:``, ``nccl:``, ``cuda_archs:``).
- tools/summary_env.py (``Paddle version:``, ``Paddle With CUDA:``, ``OS:``, ``Libc version:``,
  ``Python version:``, ``CUDA version:``, ``cuDNN version:``, ``Nvidia driver version:``,
  ``Nvidia driver List:``), which Paddle's installation issue template asks for; the PaddleOCR
  templates' ``系统环境/System Environment：`` / ``版本号/Version：Paddle：`` and ``OS`` /
  ``Python`` / ``CUDA`` lines; PaddleX's ``PaddleX版本``.
- ``nvcc --version`` (``Cuda compilation tools, release 11.8, V11.8.89``), ``/etc/os-release``
  (``PRETTY_NAME=``), ``lsb_release -a``, ``lscpu`` (English and Chinese labels: ``Flags:`` /
  ``标记：``), ``python --version``, ``uname -a``, ``/proc/driver/nvidia/version`` (``NVRM
  version: NVIDIA UNIX x86_64 Kernel Module  535.129.03``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..knowledge import gpus as G
from .text import Line, strip_decoration

MiB = 1 << 20
VERSION = r"\d+\.\d+(?:\.\d+)*"


@dataclass
class Piece:
    """One thing read from the paste: what it is, a short summary, and the lines it spans."""
    kind: str           # "nvidia-smi", "pip list", "run_check", ...
    summary: str
    first: int
    last: int
    truncated: str = ""  # why the piece looks cut off, if it does

    def to_json(self) -> dict:
        out = {"kind": self.kind, "summary": self.summary, "lines": [self.first, self.last]}
        if self.truncated:
            out["truncated"] = self.truncated
        return out


@dataclass
class Observations:
    pieces: list[Piece] = field(default_factory=list)
    # each value: list of (value, where) so that disagreements can be reported
    values: dict[str, list[tuple]] = field(default_factory=dict)
    gpus: dict[int, dict] = field(default_factory=dict)      # index -> {name, memory, ...}
    gpu_table_seen: bool = False   # a table/-q/-L listed the GPUs (their count is known)
    prose_gpus: list[str] = field(default_factory=list)
    packages: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> [(ver, where)]
    package_list_complete: bool = False   # a whole pip/conda list (with its header) was pasted
    cpu_flags: set | None = None

    def note(self, key: str, value, where: str) -> None:
        if value in (None, ""):
            return
        self.values.setdefault(key, []).append((value, where))

    def first(self, key: str):
        got = self.values.get(key)
        return got[0][0] if got else None

    def conflicts(self) -> dict[str, list[tuple]]:
        out = {}
        for key, seen in self.values.items():
            distinct = {str(v) for v, _ in seen}
            if len(distinct) > 1 and key in COMPARED:
                out[key] = seen
        return out

    def add_package(self, name: str, version: str, where: str) -> None:
        name = canonical(name)
        entry = self.packages.setdefault(name, [])
        if (version, where) not in entry:
            entry.append((version, where))


# Keys whose disagreement between two pieces of the paste means they come from different machines
# or environments (PD140).
COMPARED = {"driver_version", "cuda_driver_version", "paddle_cuda", "paddle_version",
            "python_version", "paddle_with_cuda"}


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503): paddlepaddle_gpu -> paddlepaddle-gpu."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _where(kind: str, line: Line) -> str:
    return f"{kind} (line {line.number})"


# --- nvidia-smi ------------------------------------------------------------------------------------

SMI_HEADER = re.compile(r"NVIDIA-SMI\s+(?P<smi>[\d.]+|N/A)"
                        r"(?:.*?(?:Driver|KMD)\s+Version:\s*(?P<driver>[\d.]+|N/A))?"
                        r"(?:.*?CUDA(?:\s+UMD)?\s+Version:\s*(?P<cuda>[\d.]+|N/A))?", re.IGNORECASE)
DRIVER_ANY = re.compile(r"(?:NVIDIA\s+)?(?:Driver|KMD)\s+Version\s*[:：]\s*(\d{3}\.\d+(?:\.\d+)?)",
                        re.IGNORECASE)
# "nividia-驱动440.36", "驱动版本 535.104", "driver 550.54.14" in prose
PROSE_DRIVER = re.compile(r"(?:驱动|driver)[^\d\n]{0,6}?(\d{3}\.\d{2,3}(?:\.\d{2})?)(?![\d.])", re.I)
CUDA_ANY = re.compile(r"CUDA(?:\s+UMD)?\s+Version\s*[:：]\s*(\d+\.\d+)\b")
BUS_ID = re.compile(r"^[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f]$")
ROW1 = re.compile(r"^(?P<index>\d+)\s+(?P<name>.+?)\s+(?P<mode>On|Off|WDDM|TCC|N/A)$")
ROW2_MEM = re.compile(r"(\d+)\s*MiB\s*/\s*(\d+)\s*MiB")
ROW2_UTIL = re.compile(r"(\d+)%\s+(?:Default|E\.\s*Process|Prohibited|Exclusive_Process|N/A)")
PROC_ROW = re.compile(r"^\|?\s*(?P<gpu>\d+)\s+(?:(?:N/A|\d+)\s+(?:N/A|\d+)\s+)?(?P<pid>\d+|N/A)\s+"
                      r"(?P<type>C\+G|M\+C|C|G|M)\s+(?P<name>.+?)\s+(?P<mem>\d+|N/A)\s*(?:MiB)?\s*\|?$")
SMI_L = re.compile(r"^GPU\s+(?P<index>\d+):\s+(?P<name>.+?)(?:\s+\(UUID:.*)?$")
Q_LOG = re.compile(r"=+\s*NVSMI LOG\s*=+")
Q_FIELD = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z0-9 ./()-]*?)\s*:\s*(?P<value>.*)$")
Q_GPU = re.compile(r"^\s*GPU\s+(?P<bus>[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-9A-Fa-f])\s*$")


def _version_or_none(value: str | None) -> str | None:
    return value if value and re.fullmatch(VERSION, value) else None


SMI_FAILED = [
    (re.compile(r"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver"),
     "DriverNotLoaded"),
    (re.compile(r"Failed to initialize NVML: Driver/library version mismatch"), "LibRmVersionMismatch"),
    (re.compile(r"nvidia-smi: (?:command )?not found|'nvidia-smi' is not recognized as an internal|"
                r"'nvidia-smi' 不是内部或外部命令|无法将“nvidia-smi”项识别"), "LibraryNotFound"),
    (re.compile(r"Unable to determine the device handle for GPU.*(?:Unknown Error|GPU is lost)"),
     "GpuIsLost"),
]


def parse_nvidia_smi(lines: list[Line], obs: Observations) -> None:
    for line in lines:
        for rx, kind in SMI_FAILED:
            if rx.search(line.text):
                obs.note("smi_failed", kind, _where("nvidia-smi", line))
                obs.note("smi_error", line.text.strip(), _where("nvidia-smi", line))
                obs.pieces.append(Piece("nvidia-smi", f"failed: {kind}", line.number, line.number))
    i = 0
    while i < len(lines):
        m = SMI_HEADER.search(lines[i].text)
        if m and (m.group("driver") or m.group("cuda")):
            i = _smi_table(lines, i, m, obs)
            continue
        if Q_LOG.search(lines[i].text):
            i = _smi_query(lines, i, obs)
            continue
        i += 1
    _smi_list(lines, obs)
    _smi_fragments(lines, obs)


def _smi_table(lines: list[Line], start: int, header: re.Match, obs: Observations) -> int:
    where = _where("nvidia-smi", lines[start])
    driver = _version_or_none(header.group("driver"))
    cuda = _version_or_none(header.group("cuda"))
    obs.note("driver_version", driver, where)
    obs.note("cuda_driver_version", cuda, where)
    found: list[dict] = []
    in_processes, processes_seen, procs = False, False, []
    processes_whole = False  # the table's end seen (or "No running processes found")
    processes_rule = False
    windows = False
    i, last = start + 1, start
    blank_run = 0
    while i < len(lines):
        text = lines[i].text.strip()
        if not text:
            blank_run += 1
            if blank_run > 1 or (found and not in_processes and i + 1 < len(lines)
                                 and not lines[i + 1].text.strip().startswith(("+", "|"))):
                break
            i += 1
            continue
        blank_run = 0
        if SMI_HEADER.search(text) and (SMI_HEADER.search(text).group("driver")):
            break  # the next table
        if not (text.startswith("|") or text.startswith("+")):
            break
        last = i
        if "Processes:" in text:
            in_processes, processes_seen = True, True
        elif in_processes:
            if "No running processes found" in text:
                processes_whole = True
            elif text.startswith("|="):
                processes_rule = True
            elif text.startswith("+") and processes_rule:
                processes_whole = True
        cells = [c.strip() for c in text.strip("|").split("|")]
        if not in_processes and len(cells) >= 2:
            r1 = ROW1.match(cells[0])
            if r1 and BUS_ID.match(cells[1].split()[0] if cells[1].split() else ""):
                gpu = {"index": int(r1.group("index")), "name": r1.group("name").strip(),
                       "pci_bus_id": cells[1].split()[0]}
                if r1.group("mode") in ("WDDM", "TCC"):
                    windows = True
                if len(cells) >= 3:
                    ecc = cells[2].split()[-1] if cells[2].split() else ""
                    if ecc.isdigit():
                        gpu["ecc_uncorrected_volatile"] = int(ecc)
                found.append(gpu)
            elif found and "memory" not in found[-1]:
                mem = ROW2_MEM.search(text)
                if mem:
                    used, total = int(mem.group(1)) * MiB, int(mem.group(2)) * MiB
                    found[-1]["memory"] = {"total": total, "used": used, "free": max(total - used, 0)}
                    util = ROW2_UTIL.search(text)
                    if util:
                        found[-1]["utilization_gpu"] = int(util.group(1))
        elif in_processes:
            p = PROC_ROW.match(text)
            if p and p.group("pid") != "N/A":
                procs.append({"gpu": int(p.group("gpu")), "pid": int(p.group("pid")),
                              "name": p.group("name").strip(),
                              "used_memory": int(p.group("mem")) * MiB if p.group("mem").isdigit()
                              else None})
        i += 1
    truncated = ""
    if not found:
        truncated = "no GPU row"
    elif not processes_seen:
        truncated = "no Processes table"
    elif not (processes_whole or procs):
        truncated = "the Processes table is cut off"
    for gpu in found:
        gpu["processes"] = [{k: v for k, v in p.items() if k != "gpu"} for p in procs
                            if p["gpu"] == gpu["index"]] if processes_whole or procs else None
        _merge_gpu(obs, gpu, where)
    if found:
        obs.gpu_table_seen = True
    if windows:
        obs.note("os_system", "Windows", f"{where}: WDDM/TCC driver model")
    names = ", ".join(sorted({g["name"] for g in found})) or "no GPU row"
    obs.pieces.append(Piece("nvidia-smi", f"driver {driver or '?'}, CUDA {cuda or '?'}, "
                                          f"{len(found)} GPU(s): {names}",
                            lines[start].number, lines[last].number,
                            truncated if truncated == "no GPU row" else ""))
    return max(i, start + 1)


def _merge_gpu(obs: Observations, gpu: dict, where: str) -> None:
    have = obs.gpus.setdefault(gpu["index"], {"index": gpu["index"]})
    for key, value in gpu.items():
        if value is not None and (key not in have or have[key] in (None, "")):
            have[key] = value
    have.setdefault("from", where)


def _smi_query(lines: list[Line], start: int, obs: Observations) -> int:
    where = _where("nvidia-smi -q", lines[start])
    i, current, fb = start + 1, None, False
    count, last = 0, start
    while i < len(lines):
        text = lines[i].text
        if not text.strip():
            i += 1
            continue
        if Q_LOG.search(text) or lines[i].command:
            break
        g = Q_GPU.match(text)
        if g:
            current = {"index": count, "pci_bus_id": g.group("bus")}
            count += 1
            _merge_gpu(obs, current, where)
            current = obs.gpus[current["index"]]
            fb = False
            last = i
            i += 1
            continue
        f = Q_FIELD.match(text)
        if not f:
            if not text.startswith(" "):
                break
            i += 1
            continue
        last = i
        key, value = f.group("key").strip(), f.group("value").strip()
        if key == "Driver Version":
            obs.note("driver_version", _version_or_none(value), where)
        elif key == "CUDA Version":
            obs.note("cuda_driver_version", _version_or_none(value), where)
        elif key == "Attached GPUs" and value.isdigit():
            obs.note("gpu_count", int(value), where)
        elif current is not None:
            if key == "Product Name":
                current["name"] = value
            elif key in ("FB Memory Usage",):
                fb = True
            elif fb and key in ("Total", "Used", "Free"):
                m = re.match(r"(\d+)\s*MiB", value)
                if m:
                    current.setdefault("memory", {})[key.lower()] = int(m.group(1)) * MiB
                if key == "Free":
                    fb = False
            elif key in ("BAR1 Memory Usage", "Conf Compute Protected Memory Usage"):
                fb = False
            elif key == "Compute Capability" or key == "CUDA Compute Capability":
                if re.fullmatch(r"\d+\.\d+", value):
                    current["compute_capability"] = value
        i += 1
    if count:
        obs.gpu_table_seen = True
    names = ", ".join(sorted({str(g.get("name")) for g in obs.gpus.values() if g.get("name")}))
    obs.pieces.append(Piece("nvidia-smi -q", f"driver {obs.first('driver_version') or '?'}, "
                                             f"{count} GPU(s)" + (f": {names}" if names else ""),
                            lines[start].number, lines[last].number,
                            "" if count else "no GPU section"))
    return i


def _smi_list(lines: list[Line], obs: Observations) -> None:
    block: list[Line] = []
    for line in lines + [Line(0, "")]:
        m = SMI_L.match(strip_decoration(line.text)) if line.text else None
        if m:
            block.append(line)
            continue
        if block:
            where = _where("nvidia-smi -L", block[0])
            for b in block:
                g = SMI_L.match(strip_decoration(b.text))
                _merge_gpu(obs, {"index": int(g.group("index")), "name": g.group("name").strip()},
                           where)
            obs.gpu_table_seen = True
            obs.pieces.append(Piece("nvidia-smi -L", f"{len(block)} GPU(s): " + ", ".join(
                sorted({SMI_L.match(strip_decoration(b.text)).group("name").strip() for b in block})),
                block[0].number, block[-1].number))
            block = []


def _smi_fragments(lines: list[Line], obs: Observations) -> None:
    """Driver and CUDA versions outside a table: the header retyped on separate lines
    (``NVIDIA-SMI 525.60.13`` / ``Driver Version: 525.60.13``), summary_env's ``Nvidia driver
    version:``, ``/proc/driver/nvidia/version``, and GPU models named in prose."""
    covered = {n for p in obs.pieces for n in range(p.first, p.last + 1)}
    first = last = None
    for line in lines:
        if line.number in covered:
            continue
        text = line.text
        d = DRIVER_ANY.search(text)
        nvrm = re.search(r"NVRM version:.*?Kernel Module\s+(?:for\s+\S+\s+)?(\d{3}\.\d+(?:\.\d+)?)", text)
        c = CUDA_ANY.search(text)
        if not d:
            d = PROSE_DRIVER.search(text)
        if d or nvrm or c:
            kind = "/proc/driver/nvidia/version" if nvrm else "driver version"
            if d:
                obs.note("driver_version", d.group(1), _where(kind, line))
            if nvrm:
                obs.note("driver_version", nvrm.group(1), _where(kind, line))
                obs.note("kernel_module_loaded", True, _where(kind, line))
            if c:
                obs.note("cuda_driver_version", c.group(1), _where(kind, line))
            first = first or line.number
            last = line.number
    if first:
        obs.pieces.append(Piece("driver version", f"driver {obs.first('driver_version') or '?'}"
                                + (f", CUDA {obs.first('cuda_driver_version')}"
                                   if obs.first('cuda_driver_version') else ""), first, last))
    for line in lines:
        if line.number in covered or line.command:
            continue
        for m in G.PROSE.finditer(line.text):
            name = m.group(0).strip()
            if name not in obs.prose_gpus:
                obs.prose_gpus.append(name)


# --- packages --------------------------------------------------------------------------------------

PKG_NAME = r"[A-Za-z0-9_][A-Za-z0-9._-]*"  # conda has _libgcc_mutex
PKG_VERSION = r"v?\d[\w.+!-]*"
LIST_ROW = re.compile(rf"^(?P<name>{PKG_NAME})\s+(?P<version>{PKG_VERSION})(?:\s+(?P<rest>\S.*))?$")
FREEZE_ROW = re.compile(rf"^(?P<name>{PKG_NAME})\s*==\s*(?P<version>{PKG_VERSION})\s*$")
PIP_HEADER = re.compile(r"^Package\s+Version(?:\s+(?:Location|Editable project location|Installer))*\s*$")
CONDA_HEADER = re.compile(r"^#\s*Name\s+Version\s+Build\s+Channel\s*$")
CONDA_PREAMBLE = re.compile(r"^#\s*packages in environment at\s+(?P<path>.+?):?\s*$")
DASHES = re.compile(r"^-{3,}(?:\s+-{3,})+\s*$")
# Names worth reading outside a whole list (a `pip list | grep paddle`, a line in prose).
INTERESTING = re.compile(r"^(?:paddle[\w-]*|nvidia-[\w-]+|numpy|protobuf|torch|tensorflow[\w-]*|"
                         r"opencv[\w-]*|onnxruntime[\w-]*|cudatoolkit|cudnn|nccl|cuda-[\w-]+|"
                         r"ppocr|ultra-infer[\w-]*|fastdeploy[\w-]*)$", re.IGNORECASE)
NOT_A_PACKAGE = re.compile(r"^(?:python|cuda|gcc|driver|version|ubuntu|centos|windows|linux|"
                           r"gpu|cpu|os|nvcc|release|paddle)$", re.IGNORECASE)


def parse_packages(lines: list[Line], obs: Observations) -> None:
    _whole_lists(lines, obs)
    _loose_rows(lines, obs)
    _pip_show(lines, obs)


def _whole_lists(lines: list[Line], obs: Observations) -> None:
    i = 0
    while i < len(lines):
        text = strip_decoration(lines[i].text)
        pip = PIP_HEADER.match(text)
        conda = CONDA_HEADER.match(text)
        if not (pip or conda):
            i += 1
            continue
        kind = "pip list" if pip else "conda list"
        start, j, rows = i, i + 1, 0
        if kind == "conda list" and i > 0 and CONDA_PREAMBLE.match(lines[i - 1].text.strip()):
            start = i - 1
        if j < len(lines) and DASHES.match(lines[j].text.strip()):
            j += 1
        last, stopped = j - 1, ""
        while j < len(lines):
            row = lines[j].text.strip()
            if not row:
                break
            m = LIST_ROW.match(row)
            if not m:
                stopped = row
                break
            rest = (m.group("rest") or "").split()
            where = _where(kind, lines[j])
            channel = rest[-1] if kind == "conda list" and len(rest) >= 2 else ""
            obs.add_package(m.group("name"), m.group("version").lstrip("v"),
                            where + (f" channel {channel}" if channel else ""))
            rows += 1
            last = j
            j += 1
        names = [canonical(m.group("name")) for m in
                 (LIST_ROW.match(lines[k].text.strip()) for k in range(i + 1, last + 1)) if m]
        paddles = sorted(n for n in names if n.startswith("paddlepaddle"))
        summary = f"{rows} packages" + (": " + ", ".join(
            f"{n} {obs.packages[n][0][0]}" for n in paddles) if paddles else ", no paddlepaddle")
        # Both lists are sorted by name: one whose last row sorts before "paddlepaddle" was cut
        # before it (users trim long lists). One interrupted by other text may be cut too.
        truncated = "" if rows else "no package row"
        if rows and not paddles and names[-1].lstrip("_") < "paddlepaddle":
            truncated = (f"the list ends at {names[-1]}, before where paddlepaddle would be "
                         "(sorted by name)")
        elif stopped:
            truncated = f"the list stops at a line that is not a package: {stopped[:40]!r}"
        obs.pieces.append(Piece(kind, summary, lines[start].number, lines[max(last, i)].number,
                                truncated))
        if rows >= 5 and not truncated:
            obs.package_list_complete = True
        i = j


def _loose_rows(lines: list[Line], obs: Observations) -> None:
    covered = {n for p in obs.pieces if p.kind in ("pip list", "conda list")
               for n in range(p.first, p.last + 1)}
    first = last = None
    kinds, loose = set(), set()
    for line in lines:
        if line.number in covered or line.command:
            continue
        text = strip_decoration(line.text)
        if re.search(r"\b(?:pip|conda|uv|mamba)\s+install\b|\binstall(?:ing|ed)?\b", text, re.I):
            continue  # what the user tried to install, not what is installed
        # "版本号/Version：paddlepaddle-gpu  2.6.1.post112", "PaddlePaddle版本：paddlepaddle-gpu==2.0.0"
        text = re.sub(r"^.*?[：:]\s*(?=paddle)", "", text, flags=re.I) if re.search(
            r"[：:]\s*paddle[\w-]*(?:\s*==\s*|\s+)\d", text, re.I) else text
        m = FREEZE_ROW.match(text)
        kind = "pip freeze"
        if not m:
            m = LIST_ROW.match(text)
            kind = "pip list"
            if m and not INTERESTING.match(m.group("name")):
                m = None
        if not m or NOT_A_PACKAGE.match(m.group("name")):
            continue
        if kind == "pip list" and m.group("rest") and not re.match(
                r"^(?:(?:[\w.]*\d[\w.]*|<pip>)(?:\s+\S+)?|/\S*|[A-Za-z]:\\\S*)$", m.group("rest")):
            continue  # "paddlepaddle 2.6 is not working": prose, not a row
        obs.add_package(m.group("name"), m.group("version").lstrip("v"), _where(kind, line))
        kinds.add(kind)
        loose.add(canonical(m.group("name")))
        first = first or line.number
        last = line.number
    if first:
        shown = sorted(n for n in loose if n.startswith("paddle")) or sorted(loose)[:4]
        obs.pieces.append(Piece(" / ".join(sorted(kinds)), ", ".join(
            f"{n} {obs.packages[n][0][0]}" for n in shown), first, last))


def _pip_show(lines: list[Line], obs: Observations) -> None:
    for i, line in enumerate(lines):
        m = re.match(rf"^Name:\s*({PKG_NAME})\s*$", line.text.strip())
        if not m or i + 1 >= len(lines):
            continue
        v = re.match(rf"^Version:\s*({PKG_VERSION})\s*$", lines[i + 1].text.strip())
        if v:
            obs.add_package(m.group(1), v.group(1), _where("pip show", line))
            obs.pieces.append(Piece("pip show", f"{canonical(m.group(1))} {v.group(1)}",
                                    line.number, lines[i + 1].number))


# --- Paddle's own outputs --------------------------------------------------------------------------

RUN_CHECK_START = re.compile(r"Running [Vv]erify (?:PaddlePaddle|Paddle) [Pp]rogram")
WORKS_WELL = re.compile(r"PaddlePaddle works well on (\d+) (GPU|CPU|XPU|NPU)s?\.")
NO_GPU = re.compile(r"You are using GPU version Paddle(?:Paddle)?, but (?:there is no GPU detected on "
                    r"your machine|your CUDA device is not set properly)")
NOTE_LINE = re.compile(r"Please NOTE: device: (?P<dev>\d+), (?:GPU Compute|CUDA) Capability: "
                       r"(?P<cc>\d+(?:\.\d+)?), Driver API Version: (?P<drv>[\d.]+), "
                       r"Runtime API Version: (?P<rt>[\d.]+)")
CUDNN_LINE = re.compile(r"device: (?P<dev>\d+), cuDNN Version: (?P<v>\d+\.\d+)")
SHOW_KEYS = ("full_version", "major", "minor", "patch", "rc", "cuda", "cudnn", "nccl", "commit",
             "xpu", "xpu_xre", "cinn", "hip", "tensorrt_version", "cuda_archs", "xpu_xccl",
             "xpu_xhpc")
SHOW_LINE = re.compile(r"^(?P<key>[a-z_]+):\s*(?P<value>.*)$")


def parse_paddle_outputs(lines: list[Line], obs: Observations) -> None:
    _run_check(lines, obs)
    _version_show(lines, obs)
    _python_expressions(lines, obs)


def _run_check(lines: list[Line], obs: Observations) -> None:
    start = last = None
    outcome, devices, kind = None, None, None
    # 2.0's run_check printed its GPU warning for CPU builds too, with this original error
    cpu_build = any("Original Error is Not compiled with CUDA" in ln.text for ln in lines)
    for line in lines:
        text = line.text
        hit = False
        if RUN_CHECK_START.search(text):
            hit = True
        m = WORKS_WELL.search(text)
        if m:
            hit, devices, kind = True, max(devices or 0, int(m.group(1))), m.group(2)
            outcome = outcome or "works"
        if "installed successfully ONLY for single" in text:
            hit, outcome = True, "single only"
        elif re.search(r"(?:PaddlePaddle|Your Paddle) is installed successfully!", text):
            hit, outcome = True, outcome if outcome == "single only" else "works"
        if re.search(r"Your Paddle works well on (?:SINGLE|MUTIPLE|MULTIPLE) GPU or CPU", text):
            hit, outcome = True, outcome or "works"
        if NO_GPU.search(text):
            hit, outcome = True, "no gpu"
            obs.note("paddle_with_cuda", not cpu_build, _where("run_check", line))
            if not cpu_build:
                obs.note("paddle_sees_gpus", 0, _where("run_check", line))
        if "Original Error is Not compiled with CUDA" in text:
            hit = True
        n = NOTE_LINE.search(text)
        if n:
            hit = True
            cc = n.group("cc")
            cc = cc if "." in cc else f"{cc[:-1]}.{cc[-1]}"
            _merge_gpu(obs, {"index": int(n.group("dev")), "compute_capability": cc},
                       _where("Paddle's device note", line))
            obs.note("cuda_driver_version", n.group("drv"), _where("Paddle's device note", line))
            obs.note("paddle_cuda_runtime", n.group("rt"), _where("Paddle's device note", line))
            obs.note("paddle_with_cuda", True, _where("Paddle's device note", line))
        c = CUDNN_LINE.search(text)
        if c:
            hit = True
            obs.note("cudnn_runtime", c.group("v"), _where("Paddle's device note", line))
        if hit:
            start = start or line.number
            last = line.number
    if start is None:
        return
    if kind == "GPU" and devices:
        obs.note("paddle_sees_gpus", devices, "run_check")
        obs.note("paddle_with_cuda", True, "run_check")
    if kind == "CPU" and outcome in ("works", "single only"):
        obs.note("run_check_device", "CPU", "run_check")
    obs.note("run_check", outcome or "started, no result", "run_check")
    said = {"works": "works", "single only": "works on one device only", "no gpu": "no GPU detected",
            None: "no result in the text"}[outcome]
    obs.pieces.append(Piece("run_check", said + (f" ({devices} {kind})" if devices else ""),
                            start, last))


def _version_show(lines: list[Line], obs: Observations) -> None:
    i = 0
    while i < len(lines):
        m = SHOW_LINE.match(lines[i].text.strip())
        if not m or m.group("key") not in ("full_version", "commit"):
            i += 1
            continue
        block, j = {}, i
        while j < len(lines):
            s = SHOW_LINE.match(lines[j].text.strip())
            if not s or s.group("key") not in SHOW_KEYS:
                break
            block[s.group("key")] = s.group("value").strip().strip("'\"")
            j += 1
        if len(block) >= 3 and "cuda" in block:
            where = _where("paddle.version.show()", lines[i])
            obs.note("paddle_version", block.get("full_version"), where)
            cuda = block.get("cuda")
            obs.note("paddle_cuda", cuda if cuda not in ("False", "None", "") else "False", where)
            obs.note("paddle_with_cuda", cuda not in ("False", "None", ""), where)
            obs.note("paddle_cudnn", block.get("cudnn"), where)
            obs.note("paddle_nccl", block.get("nccl"), where)
            obs.note("paddle_commit", block.get("commit"), where)
            archs = re.findall(r"\d+", block.get("cuda_archs", "")) if "cuda_archs" in block else None
            if archs is not None:
                obs.note("paddle_archs", [int(a) for a in archs], where)
            obs.pieces.append(Piece("paddle.version.show()", f"Paddle {block.get('full_version') or '?'}, "
                                    f"CUDA {cuda}", lines[i].number, lines[j - 1].number))
        i = max(j, i + 1)


# Expressions whose printed value the doctor understands, and the fact each gives.
EXPRESSIONS = [
    (re.compile(r"paddle\.__version__|paddle\.version\.full_version"), "paddle_version"),
    (re.compile(r"paddle\.version\.cuda\(\)"), "paddle_cuda"),
    (re.compile(r"paddle\.version\.cudnn\(\)"), "paddle_cudnn"),
    (re.compile(r"paddle\.(?:device\.)?is_compiled_with_cuda\(\)|core\.is_compiled_with_cuda\(\)"),
     "paddle_with_cuda"),
    (re.compile(r"paddle\.device\.cuda\.device_count\(\)"), "paddle_sees_gpus"),
    (re.compile(r"paddle\.device\.get_device\(\)"), "paddle_device"),
]
VALUE = re.compile(r"^'?(?:\d+\.\d+(?:\.\d+)*(?:[\w.+-]*)|True|False|None|\d+|gpu:\d+|cpu)'?$")


def _python_expressions(lines: list[Line], obs: Observations) -> None:
    for i, line in enumerate(lines):
        cmd = line.command or ""
        if "paddle" not in cmd:
            continue
        exprs = _printed_expressions(cmd, line.python)
        if not exprs:
            continue
        # the output: the next non-empty line that is not a command (skipping warnings)
        out = None
        for nxt in lines[i + 1:i + 8]:
            if nxt.command:
                break
            t = nxt.text.strip()
            if not t or re.match(r"^(?:W\d{4}|I\d{4}|E\d{4}|\S+\.py:\d+:|warnings\.warn|/)", t):
                continue
            out = (nxt, t)
            break
        if out is None:
            continue
        values = out[1].split()
        if len(values) != len(exprs) or not all(VALUE.match(v) for v in values):
            continue
        where = _where("python output", out[0])
        for key, value in zip(exprs, values):
            if key is None:
                continue
            value = value.strip("'")
            if key == "paddle_with_cuda":
                obs.note(key, value == "True", where)
            elif key == "paddle_sees_gpus":
                if value.isdigit():
                    obs.note(key, int(value), where)
            elif key == "paddle_cuda":
                obs.note(key, value, where)
                obs.note("paddle_with_cuda", value not in ("False", "None"), where)
            else:
                obs.note(key, value, where)
        obs.pieces.append(Piece("python output", " ".join(values) + f" ({_short(cmd)})",
                                line.number, out[0].number))


def _printed_expressions(cmd: str, interactive: bool) -> list:
    """The facts an output line gives, in order: ``print(a, b)`` -> [key(a), key(b)]; an
    expression typed at >>> -> [key]."""
    m = re.search(r"print\((?P<args>.*)\)", cmd)
    args = _split_args(m.group("args")) if m else ([cmd.strip().rstrip(";")] if interactive else [])
    keys = []
    for arg in args:
        key = next((k for rx, k in EXPRESSIONS if rx.search(arg)), None)
        keys.append(key)
    return keys if any(keys) else []


def _split_args(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return [a.strip() for a in out]


def _short(cmd: str) -> str:
    return cmd if len(cmd) <= 60 else cmd[:57] + "..."


# --- labelled fields (summary_env.py, issue templates, prose "key: value") -------------------------

FIELD = re.compile(r"^(?:[-*]\s*)?(?P<key>[^:：]{1,60}?)\s*[:：]\s*(?P<value>.*)$")
LABELS = [
    (re.compile(r"^paddle\s*with\s*cuda$", re.I), "paddle_with_cuda"),
    (re.compile(r"^(?:paddle(?:paddle)?\s*(?:version|版本)|paddle(?:paddle)?|飞桨版本|"
                r"版本号\s*/\s*version|paddle\s*版本号)$", re.I), "paddle_version"),
    (re.compile(r"^(?:python\s*(?:version|版本)?|python版本)$", re.I), "python_version"),
    (re.compile(r"^(?:os|系统环境\s*/\s*system environment|system environment|操作系统|"
                r"os\s*platform|系统(?:版本)?|operating system)$", re.I), "os_text"),
    (re.compile(r"^libc\s*version$", re.I), "libc"),
    (re.compile(r"^(?:cuda\s*(?:version|版本)?|cuda版本)$", re.I), "stated_cuda"),
    (re.compile(r"^(?:cudnn\s*(?:version|版本)?)$", re.I), "stated_cudnn"),
    (re.compile(r"^(?:nvidia\s*driver\s*version|nvidia\s*driver|driver|驱动(?:版本)?|显卡驱动(?:版本)?)$",
                re.I), "driver_version"),
    (re.compile(r"^(?:gpu|显卡(?:型号)?|gpu\s*型号|nvidia\s*driver\s*list)$", re.I), "gpu_text"),
    (re.compile(r"^(?:paddleocr(?:\s*version)?|paddleocr版本)$", re.I), "paddleocr"),
    (re.compile(r"^(?:paddlex(?:\s*version|版本)?)$", re.I), "paddlex"),
]


def parse_fields(lines: list[Line], obs: Observations) -> None:
    covered = {n for p in obs.pieces for n in range(p.first, p.last + 1)}
    first = last = None
    summary_env = any(re.match(r"^Paddle With CUDA\s*:", ln.text.strip()) for ln in lines)
    for idx, line in enumerate(lines):
        if line.number in covered or line.command:
            continue
        text = strip_decoration(line.text)
        # "版本号/Version：Paddle：2.6  PaddleOCR：2.7": several fields on one line
        for key, value in _fields_of(text):
            field_name = next((f for rx, f in LABELS if rx.match(key)), None)
            if not field_name or not value or value.upper() == "N/A":
                continue
            where = _where("summary_env.py" if summary_env else "environment block", line)
            if _take_field(obs, field_name, value, where, lines, idx):
                first = first or line.number
                last = line.number
    if first:
        obs.pieces.append(Piece("summary_env.py" if summary_env else "environment block",
                                _fields_summary(obs), first, last))


def _fields_of(text: str) -> list[tuple[str, str]]:
    parts = re.split(r"\s{2,}(?=[^\s:：]{1,30}[:：])|[,，]\s*(?=[^\s,，:：]{1,20}[:：])", text)
    out = []
    for part in parts:
        # "版本号/Version：Paddle：2.6": the label before a sub-label is only a heading
        m = FIELD.match(part.strip())
        while m:
            key, value = m.group("key").strip(), m.group("value").strip()
            sub = FIELD.match(value)
            if sub and not re.match(r"^[\d.]+", value) and len(sub.group("key")) < 30 \
                    and not re.match(r"^[A-Za-z]:\\", value):
                out.append((key, ""))
                m = sub
                continue
            out.append((key, value))
            break
    return out


def _take_field(obs: Observations, name: str, value: str, where: str, lines, idx) -> bool:
    if name == "paddle_with_cuda":
        if value.lower() in ("true", "false"):
            obs.note(name, value.lower() == "true", where)
            return True
        return False
    if name == "paddle_version":
        m = re.search(rf"(paddlepaddle(?:[-_]gpu)?)?\s*(?:==|\s)?\s*({VERSION}(?:\.post\d+|rc\d*|b\d+)?)",
                      value, re.I)
        if not m:
            return False
        if m.group(1):
            obs.add_package(m.group(1), m.group(2), where)
        obs.note(name, m.group(2).split(".post")[0], where)
        if re.search(r"\bgpu\b|post\d+", value, re.I):
            obs.note("paddle_named_gpu", True, where)
        return True
    if name == "python_version":
        m = re.search(r"(\d\.\d{1,2}(?:\.\d+)?)", value)
        if m:
            obs.note(name, m.group(1), where)
            return True
        return False
    if name == "os_text":
        obs.note(name, value, where)
        return True
    if name == "libc":
        m = re.search(r"glibc\s*(\d+\.\d+)", value, re.I)
        if m:
            obs.note(name, f"glibc {m.group(1)}", where)
            return True
        return False
    if name in ("stated_cuda", "stated_cudnn"):
        m = re.search(VERSION, value)
        if m:
            obs.note(name, m.group(0), where)
            return True
        return False
    if name == "driver_version":
        m = re.search(r"\d{3}\.\d+(?:\.\d+)?", value)
        if m:
            obs.note(name, m.group(0), where)
            return True
        return False
    if name == "gpu_text":
        names = [value] if value else []
        # summary_env's "Nvidia driver List:" is followed by nvidia-smi -L lines, read by -L
        for g in names:
            for m in G.PROSE.finditer(g):
                if m.group(0) not in obs.prose_gpus:
                    obs.prose_gpus.append(m.group(0))
        return bool(names)
    if name in ("paddleocr", "paddlex"):
        m = re.search(VERSION, value)
        if m:
            obs.add_package(name, m.group(0), where)
            return True
    return False


def _fields_summary(obs: Observations) -> str:
    parts = []
    for key, label in (("paddle_version", "Paddle"), ("paddle_with_cuda", "with CUDA"),
                       ("python_version", "Python"), ("os_text", "OS"), ("stated_cuda", "CUDA"),
                       ("driver_version", "driver")):
        v = obs.first(key)
        if v not in (None, ""):
            parts.append(f"{label} {v}")
    return ", ".join(parts) or "fields"


# --- the system ------------------------------------------------------------------------------------

NVCC = re.compile(r"Cuda compilation tools, release (\d+\.\d+), V([\d.]+)")
OS_RELEASE = re.compile(r'^PRETTY_NAME="?([^"]+)"?$')
LSB = re.compile(r'^(?:Description:\s*|DISTRIB_DESCRIPTION="?)([A-Za-z][^"]+?)"?$')
PY_VERSION = re.compile(r"^Python (\d\.\d{1,2}\.\d+)\s*$")
SYS_VERSION = re.compile(r"^(\d\.\d{1,2}\.\d+)\s.*\[(?:GCC|MSC|Clang)[^\]]*\]")
UNAME = re.compile(r"^(Linux|Darwin)\s+\S+\s+(\d+\.\d+\S*)\s+#.*?\s(x86_64|aarch64|arm64|ppc64le)"
                   r"(?:\s+\S+)*$")
LSCPU = {"arch": re.compile(r"^(?:Architecture|架构)\s*[:：]\s*(\S+)"),
         "model": re.compile(r"^(?:Model name|型号名称)\s*[:：]\s*(.+)$"),
         "flags": re.compile(r"^(?:Flags|标记)\s*[:：]\s*(.+)$"),
         "cpus": re.compile(r"^CPU\(s\)\s*[:：]\s*(\d+)$")}
WINDOWS = re.compile(r"Microsoft Windows \[(?:Version|版本)\s*([\d.]+)\]|\bWindows[- ]?(?:10|11)\b|"
                     r"\bwin(?:10|11)\b|MSC v\.\d+", re.I)


def parse_system(lines: list[Line], obs: Observations) -> None:
    lscpu_first = lscpu_last = None
    for line in lines:
        text = line.text.strip()
        m = NVCC.search(text)
        if m:
            obs.note("nvcc", m.group(2), _where("nvcc --version", line))
            obs.pieces.append(Piece("nvcc --version", f"CUDA toolkit {m.group(2)}", line.number,
                                    line.number))
            continue
        m = OS_RELEASE.match(text)
        if m:
            obs.note("os_text", m.group(1), _where("/etc/os-release", line))
            obs.note("os_system", "Linux", _where("/etc/os-release", line))
            obs.pieces.append(Piece("/etc/os-release", m.group(1), line.number, line.number))
            continue
        m = LSB.match(text)
        if m and re.search(r"ubuntu|debian|centos|red hat|rocky|alma|fedora|suse|kylin|uos|anolis|"
                           r"openeuler", m.group(1), re.I):
            obs.note("os_text", m.group(1), _where("lsb_release", line))
            obs.note("os_system", "Linux", _where("lsb_release", line))
            obs.pieces.append(Piece("lsb_release", m.group(1), line.number, line.number))
            continue
        m = PY_VERSION.match(text) or (SYS_VERSION.match(text) if not line.command else None)
        if m:
            obs.note("python_version", m.group(1), _where("python --version", line))
            obs.pieces.append(Piece("python --version", f"Python {m.group(1)}", line.number,
                                    line.number))
            if "MSC v." in text:
                obs.note("os_system", "Windows", _where("python --version", line))
            continue
        m = UNAME.match(text)
        if m:
            where = _where("uname -a", line)
            obs.note("os_system", "Linux" if m.group(1) == "Linux" else "Darwin", where)
            obs.note("kernel", m.group(2), where)
            obs.note("machine", m.group(3), where)
            if "microsoft" in m.group(2).lower():
                obs.note("wsl", True, where)
            obs.pieces.append(Piece("uname -a", f"{m.group(1)} {m.group(2)} {m.group(3)}",
                                    line.number, line.number))
            continue
        hit = False
        for key, rx in LSCPU.items():
            m = rx.match(text)
            if not m:
                continue
            hit = True
            where = _where("lscpu", line)
            if key == "flags":
                obs.cpu_flags = set(m.group(1).split())
            elif key == "arch":
                obs.note("machine", m.group(1), where)
            elif key == "model":
                obs.note("cpu_model", m.group(1).strip(), where)
            elif key == "cpus":
                obs.note("cpus", int(m.group(1)), where)
        if hit:
            lscpu_first = lscpu_first or line.number
            lscpu_last = line.number
            continue
        w = WINDOWS.search(text)
        if w:
            obs.note("os_system", "Windows", _where("Windows", line))
    if lscpu_first:
        flags = obs.cpu_flags
        simd = ("/".join(f.upper() for f in ("avx", "avx2", "avx512f") if f in flags) or "no AVX"
                ) if flags is not None else "no Flags line"
        obs.pieces.append(Piece("lscpu", f"{obs.first('cpu_model') or 'CPU'} ({simd})",
                                lscpu_first, lscpu_last))


PARSERS = (parse_nvidia_smi, parse_packages, parse_paddle_outputs, parse_system, parse_fields)
