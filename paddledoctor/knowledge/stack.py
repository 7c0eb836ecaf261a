"""The stack around Paddle: which Paddle each toolkit release needs, what the metadata does not
declare, releases with a known bug, and the CUDA libraries other frameworks pin. Every row names its
source; update the rows here (and only here) when a toolkit or Paddle ships a release.

Most Paddle toolkits do NOT declare ``paddlepaddle`` in their Requires-Dist (so that the user picks
the CPU or a GPU build): their need shows only at run time, as a version check or an API that an
older Paddle lacks. Those needs are what :data:`TOOLKITS` records, read from each release's own
wheel (runtime checks, the APIs it calls) and its release notes / README.

Sources, by key (a wheel named ``name-X.whl`` means the file of that release on PyPI; the paths
inside are the wheel's own files):
- PDX-300: paddlex-3.0.0 wheel, ``paddlex/inference/models/common/static_infer.py`` calls
  ``config.set_optimization_level(3)`` and ``set_mkldnn_cache_capacity``; the API was added in
  Paddle PR #62885 ([PIR][Inference] Add set_optimization_level api, for 3.0); PaddleX #2536, #2546,
  #2578 ("'AnalysisConfig' object has no attribute 'set_optimization_level'" on Paddle 2.6, labelled
  "version compatibility"). The same calls are in paddlex-3.1.0 and 3.3.0.
- PDX-B1: PaddleX v3.0.0-beta1, ``paddlex/__init__.py`` ``_check_paddle_version``: supported
  ``["3.0", "0.0"]`` (2.6 on XPU only), RuntimeError otherwise.
- OCR-300: paddleocr-3.0.0 wheel METADATA ``Requires-Dist: paddlex[ie,multimodal,ocr]==3.0.0`` and
  its README ("PaddleOCR 3.0 ... 全面适配飞桨框架3.0正式版"; install PaddlePaddle 3.0 first);
  paddleocr-3.3.2 requires ``paddlex[ocr-core]<3.4.0,>=3.3.0``; PaddleOCR #15846, #15629.
- NLP-281: paddlenlp-2.8.1 wheel README (METADATA): "paddlepaddle >= 2.6.0".
- NLP-300B: paddlenlp-3.0.0b4 wheel README (METADATA): "paddlepaddle >= 3.0.0b0".
- PF-120: paddleformers-1.2.0 README (METADATA): installs with Paddle 3.3 images and the cu126 /
  cu129 / cu130 indexes of Paddle 3.x; github.com/PaddlePaddle/PaddleFormers.
- DET-260: paddledet-2.6.0 wheel ``ppdet/utils/check.py`` ``check_version(version='2.2')``: "PaddlePaddle
  version 2.2 or higher is required"; METADATA ``numpy (<1.24)``.
- SPEECH-141: paddlespeech-1.4.1 wheel ``paddlespeech/s2t/training/gradclip.py``: ``from paddle.fluid
  import core`` at import time; its README: "paddlepaddle>=2.4.1". ``paddle.fluid`` is gone from
  Paddle 2.6 (PD-FLUID).
- PD-FLUID: Paddle 2.6.0 release notes (github.com/PaddlePaddle/Paddle/releases/tag/v2.6.0): the
  ``paddle.fluid`` API is removed ("fluid API 全面退场").
- HUB-240: paddlehub-2.4.0 wheel ``paddlehub/__init__.py``: RuntimeError "Version mismatch in
  PaddleHub and PaddlePaddle, you need to upgrade PaddlePaddle to version 2.0.0 or above".
- P2O-131: paddle2onnx-1.3.1 README (METADATA): "PaddlePaddle == 2.6.0".
- P2O-201: paddle2onnx-2.0.1 README (METADATA): "Paddle2ONNX 依赖PaddlePaddle3.0 ... PaddlePaddle == 3.0.0".
- FD-2X: github.com/PaddlePaddle/FastDeploy docs/get_started/installation/nvidia_gpu.md (0104df70):
  FastDeploy 2.x: "First install paddlepaddle-gpu ... paddlepaddle-gpu==3.1.1"; ``fastdeploy-gpu``
  comes from Paddle's own index, not PyPI.
- SRV-090: github.com/PaddlePaddle/Serving doc/Install_EN.md (0.9.0): paddle-serving-* 0.9.0 with
  paddlepaddle(-gpu) 2.3.x; the server wheel ships its own inference library (its METADATA requires
  no paddlepaddle).
- CLS-252: paddleclas-2.5.2 wheel ``ppcls/utils/check.py`` ``check_version`` (the requirement is
  commented out: no Paddle version enforced); SEG-280: paddleseg-2.8.0 wheel (no check).
- PD-43009: Paddle PR #43009 (protos regenerated for protobuf 4, after 2.3.0); PaddleSpeech #1970
  ("TypeError: Descriptors cannot not be created directly", protobuf 4.21 with released Paddle).
- PD-70562: Paddle #70562 (paddlepaddle 2.6.2 with protobuf 5.27: "Descriptors cannot be created
  directly"; maintainers: the _pb2 files were generated for an older protobuf, use a newer Paddle).
- PD-64937: Paddle PR #64937 ([Infra] Update Numpy Version to Support v2.0+, June 2024, in 3.0);
  Paddle #65396 ("The PaddlePaddle has conflicts with latest NumPy (2.0.0)"); NVIDIA/DALI #6487
  ("PaddlePaddle 2.6.1 requires NumPy 1.x ... np.array(paddle_tensor) failed").
- OCR-8659: PaddleOCR #8659, #8718, #8743 (``np.int`` removed in numpy 1.24 breaks
  ``ppocr/postprocess/db_postprocess.py`` of paddleocr <= 2.6.1.2; fixed after 2.6.1.2).
- PD-77340: Paddle #77340, PaddleOCR #17869, #18119, #18340 (3.3.0 and 3.3.1 CPU inference with
  oneDNN: "NotImplementedError: (Unimplemented) ConvertPirAttribute2RuntimeAttribute not support
  [pir::ArrayAttribute<pir::DoubleAttribute>] (at .../onednn_instruction.cc:116)"; fix #77430
  merged to develop, in no release; "3.2.2 is the newest release without this bug").
- TORCH-270 / TORCH-280: torch 2.7.0 / 2.8.0 METADATA (pins nvidia-cudnn-cu12==9.5.1.17 /
  9.10.2.21, nvidia-nccl-cu12==2.26.2 / 2.27.3, nvidia-cublas-cu12==12.6.4.1 / 12.8.4.1).
- TF-217: tensorflow 2.17.0 METADATA, extra and-cuda (nvidia-cudnn-cu12==8.9.7.29,
  nvidia-nccl-cu12==2.19.3, nvidia-cublas-cu12==12.3.4.1).
- JAX-0435: jax-cuda12-plugin 0.4.35 METADATA, extra with_cuda (nvidia-cudnn-cu12 <10.0,>=9.1,
  nvidia-nccl-cu12 >=2.18.1).
- PD-74792: Paddle #74792 (paddlepaddle-gpu nightly after 20250702 with torch 2.7.0 in one process:
  ``import torch`` after paddle fails with "libtorch_cuda.so: undefined symbol:
  ncclCommInitRankScalable" / ncclCommWindowRegister: Paddle loaded an older libnccl first);
  pytorch/pytorch #186591 (nvidia-nccl-cu12 and -cu13 mixed: "undefined symbol ncclCommResume",
  maintainers: uninstall the one that does not belong).
"""

from __future__ import annotations

from dataclasses import dataclass

PADDLE_DISTS = ("paddlepaddle", "paddlepaddle-gpu")


@dataclass(frozen=True)
class ToolkitNeed:
    """Releases ``versions`` of the toolkit ``dist`` need a Paddle in ``paddle``."""

    dist: str
    versions: str      # specifier on the toolkit's version ("" = every release)
    paddle: str        # specifier the Paddle version must meet
    severity: str      # "error": it fails (a check raises, an API is missing); "warn": documented only
    fails_with: str    # what the user sees otherwise
    older_toolkit: str  # a toolkit specifier that fits an older Paddle ("" when none is known)
    source: str


TOOLKITS = [
    ToolkitNeed("paddlex", ">=3.0.0a0", ">=3.0.0a0", "error",
                "AttributeError: 'paddle.base.libpaddle.AnalysisConfig' object has no attribute "
                "'set_optimization_level'", "", "PDX-300, PDX-B1"),
    ToolkitNeed("paddleocr", ">=3.0.0a0", ">=3.0.0a0", "error",
                "PaddleOCR 3.x runs on PaddleX 3.x, which calls AnalysisConfig.set_optimization_level "
                "(Paddle 3.0+)", "<3", "OCR-300, PDX-300"),
    ToolkitNeed("paddlenlp", ">=3.0.0a0", ">=3.0.0b0", "error",
                "PaddleNLP 3.x is written for Paddle 3.0 (its README: paddlepaddle >= 3.0.0b0)",
                "<3", "NLP-300B"),
    ToolkitNeed("paddlenlp", ">=2.8,<3.0.0a0", ">=2.6.0", "warn",
                "PaddleNLP 2.8 is written for Paddle 2.6 (its README: paddlepaddle >= 2.6.0)",
                "<2.8", "NLP-281"),
    ToolkitNeed("paddleformers", "", ">=3.0.0", "error",
                "PaddleFormers is built on Paddle 3.x", "", "PF-120"),
    ToolkitNeed("paddledet", ">=2.6", ">=2.2", "error",
                "ppdet.utils.check.check_version: PaddlePaddle version 2.2 or higher is required",
                "", "DET-260"),
    ToolkitNeed("paddlespeech", "<=1.4.1", "<2.6", "error",
                "ModuleNotFoundError: No module named 'paddle.fluid' (paddlespeech/s2t/training/"
                "gradclip.py imports paddle.fluid, removed in Paddle 2.6)", "", "SPEECH-141, PD-FLUID"),
    ToolkitNeed("paddlespeech", "<=1.4.1", ">=2.4.1", "warn",
                "PaddleSpeech 1.4 is written for Paddle >= 2.4.1 (its README)", "", "SPEECH-141"),
    ToolkitNeed("paddlehub", ">=2.0", ">=2.0.0", "error",
                "RuntimeError: Version mismatch in PaddleHub and PaddlePaddle, you need to upgrade "
                "PaddlePaddle to version 2.0.0 or above", "", "HUB-240"),
    ToolkitNeed("paddle2onnx", ">=2.0.0", ">=3.0.0", "error",
                "Paddle2ONNX 2.x converts Paddle 3.0 (PIR) models and depends on PaddlePaddle 3.0",
                "<2", "P2O-201"),
    ToolkitNeed("paddle2onnx", ">=1.2,<2.0.0", "<3.0.0a0", "warn",
                "Paddle2ONNX 1.x is written for Paddle 2.6 models (its README: PaddlePaddle == 2.6.0)",
                "", "P2O-131"),
    ToolkitNeed("fastdeploy-gpu", ">=2.0.0a0", ">=3.1.0", "error",
                "FastDeploy 2.x's custom operators are built against paddlepaddle-gpu 3.1", "", "FD-2X"),
    ToolkitNeed("paddle-serving-client", ">=0.9,<0.10", ">=2.2,<2.6", "warn",
                "Paddle Serving 0.9 is documented with Paddle 2.3 (2.2-2.5 era)", "", "SRV-090"),
    ToolkitNeed("paddle-serving-app", ">=0.9,<0.10", ">=2.2,<2.6", "warn",
                "Paddle Serving 0.9 is documented with Paddle 2.3 (2.2-2.5 era)", "", "SRV-090"),
]

# Toolkits the doctor knows, read even where they declare no dependency on Paddle (their wheel
# METADATA does not name paddlepaddle: see the module docstring). Values: the project, for messages.
KNOWN_TOOLKITS = {
    "paddleocr": "PaddleOCR", "paddlex": "PaddleX", "paddlenlp": "PaddleNLP",
    "paddleformers": "PaddleFormers", "paddledet": "PaddleDetection", "paddleseg": "PaddleSeg",
    "paddleclas": "PaddleClas", "paddlespeech": "PaddleSpeech", "paddlehub": "PaddleHub",
    "paddle2onnx": "Paddle2ONNX", "fastdeploy-gpu": "FastDeploy", "fastdeploy-python": "FastDeploy",
    "fastdeploy-gpu-python": "FastDeploy", "paddle-serving-server": "Paddle Serving",
    "paddle-serving-server-gpu": "Paddle Serving", "paddle-serving-client": "Paddle Serving",
    "paddle-serving-app": "Paddle Serving", "paddleslim": "PaddleSlim", "paddleaudio": "PaddleAudio",
    "paddlefleet": "PaddleFleet", "paddlemix": "PaddleMIX",
}  # sources: each project's PyPI name (CLS-252, SEG-280 and the rows above)


@dataclass(frozen=True)
class Undeclared:
    """``package`` in ``package_versions`` breaks ``who`` (a Paddle or a toolkit) in ``who_versions``
    although no metadata says so."""

    package: str
    package_versions: str
    who: str             # "paddle" (the installed Paddle) or a toolkit's distribution name
    who_versions: str
    severity: str
    fails_with: str
    fix_spec: str        # the requirement that resolves it: 'numpy<2', 'protobuf>=3.20.2,<4'
    source: str


UNDECLARED = [
    Undeclared("protobuf", ">=4", "paddle", "<2.3.1", "error",
               "TypeError: Descriptors cannot not be created directly (Paddle's _pb2 files predate "
               "protobuf 4)", "protobuf>=3.1.0,<=3.20.2", "PD-43009"),
    Undeclared("protobuf", ">=5", "paddle", ">=2.3.1,<3.0.0a0", "warn",
               "TypeError: Descriptors cannot be created directly (reported with 2.6.2 and "
               "protobuf 5.27)", "protobuf>=3.20.2,<5", "PD-70562"),
    Undeclared("numpy", ">=2", "paddle", "<3.0.0a0", "error",
               "A module that was compiled using NumPy 1.x cannot be run in NumPy 2 / "
               "np.array(paddle_tensor) fails (Tensor.__array__ has no copy argument)",
               "numpy<2", "PD-64937"),
    Undeclared("numpy", ">=1.24", "paddleocr", "<=2.6.1.2", "error",
               "AttributeError: module 'numpy' has no attribute 'int' (ppocr/postprocess/"
               "db_postprocess.py)", "numpy<1.24", "OCR-8659"),
]


@dataclass(frozen=True)
class KnownBad:
    """A Paddle release with a bug that hits a setup: ``build`` "cpu" (the CPU build, or any build
    running on CPU), "gpu" or "any"; ``with_toolkits``: the bug shows with these installed (any of
    them), empty for always."""

    paddle: str
    build: str
    with_toolkits: tuple
    title: str
    fails_with: str
    good_release: str     # the newest release without the bug
    workaround: str
    source: str


KNOWN_BAD = [
    KnownBad("==3.3.0 || ==3.3.1", "cpu", ("paddleocr", "paddlex"),
             "Paddle {version} crashes in CPU inference with oneDNN (PaddleOCR, PaddleX models)",
             "NotImplementedError: (Unimplemented) ConvertPirAttribute2RuntimeAttribute not support "
             "[pir::ArrayAttribute<pir::DoubleAttribute>] (onednn_instruction.cc:116)",
             "3.2.2",
             "Or keep this Paddle and turn oneDNN off: PaddleOCR(..., enable_mkldnn=False) / "
             "`paddleocr ocr --enable_mkldnn False` (the fix, Paddle PR #77430, is in no release yet).",
             "PD-77340"),
]


@dataclass(frozen=True)
class FrameworkPins:
    """The CUDA library wheels a framework release pins (Requires-Dist), kept for the releases the
    doctor explains; the installed framework's own METADATA is read first."""

    dist: str
    versions: str
    pins: dict
    source: str


FRAMEWORKS = {"torch": "PyTorch", "tensorflow": "TensorFlow", "tensorflow-gpu": "TensorFlow",
              "jax": "JAX", "jaxlib": "JAX", "jax-cuda12-plugin": "JAX", "jax-cuda13-plugin": "JAX",
              "jax-cuda12-pjrt": "JAX", "mxnet": "MXNet", "onnxruntime-gpu": "ONNX Runtime",
              "cupy-cuda12x": "CuPy", "cupy-cuda11x": "CuPy"}

FRAMEWORK_PINS = [
    FrameworkPins("torch", "==2.7.0", {"nvidia-cudnn-cu12": "==9.5.1.17",
                                       "nvidia-nccl-cu12": "==2.26.2",
                                       "nvidia-cublas-cu12": "==12.6.4.1"}, "TORCH-270"),
    FrameworkPins("torch", "==2.8.0", {"nvidia-cudnn-cu12": "==9.10.2.21",
                                       "nvidia-nccl-cu12": "==2.27.3",
                                       "nvidia-cublas-cu12": "==12.8.4.1"}, "TORCH-280"),
    FrameworkPins("tensorflow", "==2.17.0", {"nvidia-cudnn-cu12": "==8.9.7.29",
                                             "nvidia-nccl-cu12": "==2.19.3",
                                             "nvidia-cublas-cu12": "==12.3.4.1"}, "TF-217"),
    FrameworkPins("jax-cuda12-plugin", "==0.4.35", {"nvidia-cudnn-cu12": ">=9.1,<10.0",
                                                    "nvidia-nccl-cu12": ">=2.18.1"}, "JAX-0435"),
]

# The CUDA libraries whose two majors (or two copies) in one process clash. pip name stem ->
# (library, soname stem).
CLASHING_LIBRARIES = {"nvidia-cudnn": ("cuDNN", "libcudnn.so"), "nvidia-nccl": ("NCCL", "libnccl.so"),
                      "nvidia-cublas": ("cuBLAS", "libcublas.so")}


@dataclass(frozen=True)
class ImportOrder:
    """Importing ``second`` after ``first`` in one process fails when ``condition`` holds."""

    first: str
    second: str
    library: str
    fails_with: str
    workaround: str
    source: str


IMPORT_ORDER = [
    ImportOrder("paddle", "torch", "NCCL",
                "ImportError: .../torch/lib/libtorch_cuda.so: undefined symbol: "
                "ncclCommInitRankScalable (or ncclCommWindowRegister)",
                "Import torch before paddle, so that torch's newer libnccl.so.2 is the one loaded, "
                "or run the two frameworks in separate processes; aligning nvidia-nccl-cu12 alone did "
                "not help in the report.",
                "PD-74792"),
    ImportOrder("any", "any", "NCCL",
                "undefined symbol: ncclCommResume (nvidia-nccl-cu12 and nvidia-nccl-cu13 both "
                "installed)", "Uninstall the nvidia-nccl wheel of the CUDA major nothing here uses.",
                "PD-74792"),
]


def spec_matches(spec: str, version: str) -> bool:
    """``version`` in ``spec`` (a PEP 440 specifier; "" matches all; "A || B" matches either),
    pre-releases included. A version that cannot be parsed matches nothing."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        v = Version(version)
    except (InvalidVersion, TypeError):
        return False
    for alternative in spec.split("||"):
        try:
            if SpecifierSet(alternative.strip(), prereleases=True).contains(v, prereleases=True):
                return True
        except InvalidSpecifier:
            continue
    return False


def is_develop(version: str) -> bool:
    """Paddle's develop/nightly builds call themselves 0.0.0 (every toolkit check lets them pass)."""
    return str(version).split("+")[0].startswith("0.0.0")
