"""NVIDIA GPU model names -> compute capability, for the GPUs named in pasted text (``nvidia-smi``'s
table and ``-L`` list print the name, never the compute capability; NVML reports it directly, so a
live check never needs this table).

Sources, by key:
- NV-CC: NVIDIA, "CUDA GPU Compute Capability", developer.nvidia.com/cuda-gpus (the tables of
  data-center, workstation, GeForce and Jetson products with their compute capability).
- NV-RTX50: NVIDIA CUDA C++ Programming Guide, "Compute Capabilities" (12.0: GeForce RTX 50 series,
  RTX PRO Blackwell workstation GPUs; 10.0: B200/GB200; 10.3: B300/GB300).
- PD-LOG: Paddle's own glog line "GPU Compute Capability: 8.6" in real issue logs for the same
  model (github.com/PaddlePaddle/PaddleX/issues/844: RTX 3090 / A4000 8.6;
  github.com/PaddlePaddle/Paddle/issues/33956: GTX 1070 Ti 6.1).

Rows are tried in order; the first whose pattern is found in the name wins, so a longer name
(``A100``) comes before one it contains (``A10``). Names are matched case-insensitively against
what nvidia-smi prints, which truncates long names with "..." (``Tesla V100-SXM2...``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class GpuModel:
    pattern: str        # a regular expression found in the name (case-insensitive)
    cc: str             # "8.6"
    example: str        # a name as nvidia-smi prints it
    source: str


_B = r"(?<![A-Za-z0-9])"   # the model token starts a word ...
_E = r"(?![0-9])"           # ... and is not the start of a longer number

MODELS = [
    # Blackwell
    GpuModel(_B + r"(?:GB|B)300" + _E, "10.3", "NVIDIA B300", "NV-RTX50"),
    GpuModel(_B + r"(?:GB|B)[12]00" + _E, "10.0", "NVIDIA B200", "NV-RTX50"),
    GpuModel(r"RTX\s*50[5-9]0" + _E, "12.0", "NVIDIA GeForce RTX 5090", "NV-RTX50"),
    GpuModel(r"RTX\s*PRO\s*\d{4}\s*Blackwell", "12.0", "NVIDIA RTX PRO 6000 Blackwell Workstation Edition", "NV-RTX50"),
    # Hopper
    GpuModel(_B + r"(?:GH|H)(?:100|200|800)" + _E, "9.0", "NVIDIA H100 80GB HBM3", "NV-CC"),
    GpuModel(_B + r"H20" + _E, "9.0", "NVIDIA H20", "NV-CC"),
    # Ada
    GpuModel(r"RTX\s*40[5-9]0" + _E, "8.9", "NVIDIA GeForce RTX 4090", "NV-CC"),
    GpuModel(r"RTX\s*\d{4}\s*Ada", "8.9", "NVIDIA RTX 6000 Ada Generation", "NV-CC"),
    GpuModel(_B + r"L(?:4|20|40S?)" + _E + r"(?![A-Za-z])", "8.9", "NVIDIA L40S", "NV-CC"),
    # Ampere
    GpuModel(_B + r"A(?:100|800|30)" + _E, "8.0", "NVIDIA A100-SXM4-80GB", "NV-CC"),
    GpuModel(r"Orin", "8.7", "Orin (nvgpu)", "NV-CC"),
    GpuModel(r"RTX\s*30[5-9]0" + _E, "8.6", "NVIDIA GeForce RTX 3090", "NV-CC; PD-LOG"),
    GpuModel(r"RTX\s*A\d{4}" + _E, "8.6", "NVIDIA RTX A4000", "NV-CC; PD-LOG"),
    GpuModel(_B + r"A(?:10G?|40|16|2)" + _E + r"(?![A-Za-z0-9])", "8.6", "NVIDIA A10", "NV-CC"),
    # Turing
    GpuModel(r"RTX\s*20[6-8]0" + _E, "7.5", "NVIDIA GeForce RTX 2080 Ti", "NV-CC"),
    GpuModel(r"GTX\s*16[5-6]0" + _E, "7.5", "NVIDIA GeForce GTX 1660 Ti", "NV-CC"),
    GpuModel(r"TITAN\s*RTX|Quadro\s*RTX", "7.5", "Quadro RTX 6000", "NV-CC"),
    GpuModel(_B + r"T4" + _E + r"(?![A-Za-z])", "7.5", "Tesla T4", "NV-CC"),
    # Volta
    GpuModel(_B + r"V100" + _E, "7.0", "Tesla V100-SXM2-32GB", "NV-CC"),
    GpuModel(r"TITAN\s*V(?![A-Za-z0-9])", "7.0", "TITAN V", "NV-CC"),
    GpuModel(r"Xavier", "7.2", "Xavier (nvgpu)", "NV-CC"),
    # Pascal
    GpuModel(_B + r"P100" + _E, "6.0", "Tesla P100-PCIE-16GB", "NV-CC"),
    GpuModel(_B + r"P(?:40|4|6)" + _E + r"(?![A-Za-z0-9])", "6.1", "Tesla P4", "NV-CC"),
    GpuModel(r"GTX\s*10[5-8]0" + _E, "6.1", "GeForce GTX 1080 Ti", "NV-CC; PD-LOG"),
    GpuModel(r"TITAN\s*Xp|TITAN\s*X\s*\(Pascal\)", "6.1", "TITAN Xp", "NV-CC"),
    GpuModel(r"Quadro\s*P\d{3,4}" + _E, "6.1", "Quadro P4000", "NV-CC"),
    # Maxwell, Kepler
    GpuModel(_B + r"M(?:40|60)" + _E, "5.2", "Tesla M40 24GB", "NV-CC"),
    GpuModel(r"GTX\s*9[5-8]0" + _E, "5.2", "GeForce GTX 980", "NV-CC"),
    GpuModel(r"GTX\s*750" + _E, "5.0", "GeForce GTX 750 Ti", "NV-CC"),
    GpuModel(_B + r"K80" + _E, "3.7", "Tesla K80", "NV-CC"),
    GpuModel(_B + r"K(?:40|20)" + _E, "3.5", "Tesla K40m", "NV-CC"),
]

_COMPILED = [(re.compile(m.pattern, re.IGNORECASE), m) for m in MODELS]


def model_for_name(name: str) -> GpuModel | None:
    """The row whose pattern is in this GPU name, or None for a name this table does not know."""
    for rx, model in _COMPILED:
        if rx.search(name or ""):
            return model
    return None


def cc_for_name(name: str) -> str | None:
    m = model_for_name(name)
    return m.cc if m else None


# Names that say "an NVIDIA GPU" on their own in prose ("V100/16GB", "我的显卡是RTX 3090"), for
# pasted text with no nvidia-smi table: distinctive model tokens only (no bare "A2" or "T4").
PROSE = re.compile(
    r"(?<![A-Za-z0-9])(?:(?:NVIDIA\s+)?(?:GeForce\s+)?(?:RTX|GTX)\s?\d{3,4}(?:\s?Ti)?"
    r"|(?:Tesla\s+)?(?:V100|A100|A800|H100|H800|H200|P100|P40|K80)"
    r"|Tesla\s+[A-Z]\d+)(?![0-9])", re.IGNORECASE)
