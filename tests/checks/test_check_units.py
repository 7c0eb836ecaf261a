"""Checks met one wrong case at a time, where the mutation score (tools/mutation.py, group
``checks``) found that no test told a right answer from a wrong one. Build facts are the version
file of the real paddlepaddle-gpu 2.6.2 wheel (tests/fixtures/real/); where a test adds a part of
its own it says so."""

from __future__ import annotations

import json

import pytest

from paddledoctor import checks
from paddledoctor.checks import facts as F
from paddledoctor.model import Unavailable

from conftest import FIXTURES

REAL_VF = json.loads((FIXTURES / "real" / "paddle_gpu_2.6.2_version_file.json").read_text())["version_file"]


def run(facts):
    found, areas = checks.run(facts, {})
    return {f.code: f for f in found}, {a.area: a for a in areas}


@pytest.mark.parametrize("code, text", [
    ("22501", "2.25.1"), ("21602", "2.16.2"), ("20900", "2.9.0"),   # 2.9 on: major*10000
    ("2804", "2.8.4"), ("2708", "2.7.8"),                            # before: major*1000
    ("", None), ("False", None), ("2.18.5", "2.18.5"),
])
def test_nccl_version_codes_as_paddle_records_them(code, text):
    assert F.nccl_text(code) == text


def test_the_cuda_line_names_what_the_real_wheel_was_built_with():
    _, areas = run({"paddle": {"version_file": REAL_VF}})
    assert areas["cuda"].summary.startswith("CUDA 11.8, cuDNN 8.6.0"), areas["cuda"].summary
    no_cudnn = {**REAL_VF, "cudnn_version": "False", "nccl_version": "21602"}  # a part of our own
    _, areas = run({"paddle": {"version_file": no_cudnn}})
    assert areas["cuda"].summary.startswith("CUDA 11.8, NCCL 2.16.2"), areas["cuda"].summary
    assert "cuDNN" not in areas["cuda"].summary


def test_pd003_says_more_only_when_there_is_more():
    one = run({"doctor": {"not_understood": ["nvml.gpus: a string, not a list"]}})[0]["PD003"]
    assert one.title.endswith("set aside: nvml.gpus: a string, not a list"), one.title
    two = run({"doctor": {"not_understood": ["nvml.gpus: a string", "host.env: a list"]}})[0]["PD003"]
    assert two.title.startswith("2 value(s)") and two.title.endswith("a string ..."), two.title


def test_pd605_judges_the_checkpoint_dir_only_when_one_was_asked_for(tmp_path):
    from paddledoctor.doctor import probe_checkpoint_dir
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    facts = {"checkpoint_dir": probe_checkpoint_dir(a_file / "ckpt")}  # the real probe's answer
    found, _ = checks.run(facts, {"checkpoint_dir": str(a_file / "ckpt")})
    assert [f.code for f in found if f.area == "requirements"] == ["PD605"]
    found, _ = checks.run(facts, {})  # the wrong case: no checkpoint dir was asked for
    assert "PD605" not in {f.code for f in found}
    writable = {"checkpoint_dir": probe_checkpoint_dir(tmp_path / "ok")}
    found, _ = checks.run(writable, {"checkpoint_dir": str(tmp_path / "ok")})
    assert "PD605" not in {f.code for f in found}


# Two GPUs as NVML reports them (hand-made, in the shape of the nvml probe)
NVML_2GPUS = {"status": "ok", "driver_version": "550.54.14", "gpu_count": 2, "gpus": []}


def cudnn_facts(**more):
    return {"paddle": {"version_file": REAL_VF}, "nvml": NVML_2GPUS, **more}


@pytest.mark.parametrize("runtime, code, severity", [
    (8600, None, None), (8907, None, None),          # 8.6.0 itself, a newer 8.x
    (8401, "PD204", "warn"),                         # 8.4.1: the major, but older than the build's
    (7605, "PD204", "error"), (90501, "PD204", "error"),  # 7.6.5 and 9.5.1: another major
])
def test_the_cudnn_paddle_loaded_against_the_real_wheels_8_6(runtime, code, severity):
    found, _ = run(cudnn_facts(runtime={"devices": {"cudnn_runtime": runtime}}))
    assert ("PD204" in found) is (code is not None), found
    if code:
        assert found["PD204"].severity.value == severity
        loaded = {8401: "8.4.1", 7605: "7.6.5", 90501: "9.5.1"}[runtime]
        assert found["PD204"].title.startswith(f"cuDNN {loaded} (loaded by Paddle)")


def test_cudnn_files_on_the_library_path_are_judged_and_pips_files_left_to_its_package():
    libs = {"cudnn": [{"path": "/usr/lib/x86_64-linux-gnu/libcudnn.so.7.6.5", "version": "7.6.5",
                       "source": "ldconfig"},
                      {"path": "/venv/site-packages/nvidia/cudnn/lib/libcudnn.so.9", "version": "9",
                       "source": "pip"}]}
    found, _ = run(cudnn_facts(cuda_libs=libs))
    assert found["PD204"].evidence["found"] == ["7.6.5 (/usr/lib/x86_64-linux-gnu/libcudnn.so.7.6.5)"]
    only_pip = {"cudnn": libs["cudnn"][1:]}  # the wrong case: pip's file alone is no candidate
    assert "PD204" not in run(cudnn_facts(cuda_libs=only_pip))[0]


def nccl_facts(gpus=2, vf=None, **more):
    return {"paddle": {"version_file": vf or REAL_VF}, "nvml": {**NVML_2GPUS, "gpu_count": gpus}, **more}


def test_paddle_2_records_no_nccl_version_so_nccl_is_unknown_not_absent():
    found, _ = run(nccl_facts())  # the real 2.6.2 version file: no nccl_version literal
    assert "PD206" not in found
    odd = nccl_facts(runtime={"build": {"compiled_with_nccl": 0}})  # a 0 where a bool belongs
    assert "PD206" not in run(odd)[0]


def test_built_without_nccl_said_by_the_running_paddle_or_a_recorded_0():
    f = run(nccl_facts(runtime={"build": {"compiled_with_nccl": False}}))[0]["PD206"]
    assert f.title.startswith("This Paddle was built without NCCL")
    assert f.evidence["compiled_with_nccl"] is False and f.evidence["gpus"] == 2
    f = run(nccl_facts(vf={**REAL_VF, "nccl_version": "0"}))[0]["PD206"]  # a part of our own
    assert f.title.startswith("This Paddle was built without NCCL")
    assert f.evidence["compiled_with_nccl"] == "unknown"
    assert "PD206" not in run(nccl_facts(gpus=1, runtime={"build": {"compiled_with_nccl": False}}))[0]


def test_a_build_with_nccl_and_no_nccl_library_found_is_pd206_with_the_pip_package():
    vf = {**REAL_VF, "nccl_version": "21602"}
    f = run(nccl_facts(vf=vf, cuda_libs={"nccl": []}))[0]["PD206"]
    assert f.title == "No NCCL library found for 2 GPUs (Paddle built with NCCL 2.16.2)"
    assert f.fix.commands[0].endswith("install nvidia-nccl-cu11")
    found = run(nccl_facts(vf=vf, cuda_libs={"nccl": [{"path": "/usr/lib/libnccl.so.2", "version": "2",
                                                        "source": "ldconfig"}]}))[0]
    assert "PD206" not in found
    pip = {"packages": {"nvidia-nccl-cu11": [{"version": "2.16.2"}]}}
    assert "PD206" not in run(nccl_facts(vf=vf, cuda_libs={"nccl": []}, distributions=pip))[0]


# --- requirements: the pre-flight's numbers at their edges ------------------------------------
# NVML facts as the real nvml probe read the stand-in driver's two A100s (80 GiB each, all free);
# the report around them is synthesized (tests/fixtures/synthesized/README.md).
A100S = json.loads((FIXTURES / "synthesized" / "gpu_build_ok_a100.json").read_text())["facts"]["nvml"]
GiB = 1024 ** 3


def requirements(facts, **options):
    found, areas = checks.run(facts, options)
    return ([f for f in found if f.area == "requirements"],
            next((a for a in areas if a.area == "requirements"), None))  # None: the area is hidden


def test_free_gpu_memory_at_the_edge():
    facts = {"paddle": {"version_file": REAL_VF}, "nvml": A100S}
    assert requirements(facts, min_free_gpu_mem=80 * GiB)[0] == []          # exactly what is free
    (f,), _ = requirements(facts, min_free_gpu_mem=80 * GiB + 1)
    assert f.code == "PD603" and f.evidence["gpus_with_enough"] == 0 and f.evidence["required_gpus"] == 1
    assert f.evidence["free_per_gpu"] == ["gpu 0: 80 GiB free of 80 GiB", "gpu 1: 80 GiB free of 80 GiB"]
    found, _ = requirements(facts, min_free_gpu_mem=GiB, min_gpus=3)
    assert [x.code for x in found] == ["PD602", "PD603"]  # 3 GPUs required, and memory on 3
    f = found[1]
    assert f.title.startswith("3 GPU(s) with 1 GiB free required, 2 have it")
    assert requirements(facts, min_free_gpu_mem=GiB, min_gpus=2)[0] == []


def test_a_gpu_whose_queries_failed_has_no_free_memory_to_count():
    broken = {**A100S, "gpus": [{**A100S["gpus"][0], "error": "GPU is lost"}, A100S["gpus"][1]]}
    assert requirements({"nvml": broken}, min_free_gpu_mem=GiB)[0] == []
    found, _ = requirements({"paddle": {"version_file": REAL_VF}, "nvml": broken},
                            min_free_gpu_mem=GiB, min_gpus=2)
    f = next(x for x in found if x.code == "PD603")
    assert f.evidence["gpus_with_enough"] == 1 and f.evidence["free_per_gpu"][0].startswith("gpu 0: ? free")
    (f,), _ = requirements({"nvml": {"status": "init_failed", "gpus": []}}, min_free_gpu_mem=GiB)
    assert "NVML reports no GPU" in f.title


def test_free_disk_at_the_edge_and_where_it_is_measured():
    facts = {"host": {"disk": {"cwd": {"path": "/work", "free": 100 * GiB}}}}
    assert requirements(facts, min_free_disk=100 * GiB)[0] == []
    (f,), area = requirements(facts, min_free_disk=100 * GiB + 1)
    assert f.code == "PD604" and f.title == "100 GiB free disk required at /work, 100 GiB free"
    assert f.evidence == {"path": "/work", "required_free": 100 * GiB + 1, "free": 100 * GiB}
    assert area.summary == "100 GiB free disk required, 100 GiB free at /work"
    on_ckpt = {**facts, "checkpoint_dir": {"path": "/mnt/ckpt", "writable": True, "free": GiB}}
    (f,), _ = requirements(on_ckpt, min_free_disk=2 * GiB, checkpoint_dir="/mnt/ckpt")
    assert f.evidence["path"] == "/mnt/ckpt" and f.evidence["free"] == GiB
    assert requirements(on_ckpt, min_free_disk=2 * GiB)[0] == []  # without the option: the cwd, with room
    (f,), _ = requirements({"host": {"disk": {"cwd": {"path": "/work", "free": None}}}}, min_free_disk=GiB)
    assert f.title == "1 GiB free disk required at /work, free space unknown (not measured)"


def test_gpus_required_are_counted_from_what_is_usable():
    facts = {"paddle": {"version_file": REAL_VF}, "nvml": A100S}
    assert requirements(facts, min_gpus=2)[0] == []
    (f,), area = requirements(facts, min_gpus=3)
    assert f.code == "PD602" and f.evidence["usable"] == 2 and f.evidence["required"] == 3
    assert area.summary.startswith("3 GPU(s) required, 2 usable (GPUs NVML reports healthy")
    (f,), _ = requirements({"nvml": A100S}, require_gpu=True)  # no Paddle: none usable
    assert f.code == "PD601" and f.title == "A GPU is required, none is usable (Paddle is not installed)"
    assert requirements({"nvml": A100S})[1] is None  # nothing required: no requirements line


# --- gpu: ECC counts and a lost GPU, on the stand-in driver's A100 facts ----------------------
# Each test sets the counts NVML would report for one GPU (a part of our own; the rest is A100S).

def one_a100(**fields):
    return {"paddle": {"version_file": REAL_VF},
            "nvml": {**A100S, "gpus": [{**A100S["gpus"][0], **fields}, A100S["gpus"][1]]}}


@pytest.mark.parametrize("volatile, aggregate, severity, title", [
    (2, 0, "error", "GPU 0 (NVIDIA A100-SXM4-80GB) has 2 uncorrected ECC error(s) since boot"),
    (2, 5, "error", "GPU 0 (NVIDIA A100-SXM4-80GB) has 2 uncorrected ECC error(s) since boot, "
                    "5 in its lifetime"),
    (0, 5, "warn", "GPU 0 (NVIDIA A100-SXM4-80GB) has 5 uncorrected ECC error(s) in its lifetime "
                   "(none since boot)"),
])
def test_pd304_on_errors_since_boot_or_in_the_lifetime_alone(volatile, aggregate, severity, title):
    found, areas = run(one_a100(ecc_uncorrected_volatile=volatile, ecc_uncorrected_aggregate=aggregate))
    f = found["PD304"]
    assert (f.title, f.severity.value) == (title, severity)
    assert f.evidence == {"gpu": 0, "uncorrected_volatile": volatile, "uncorrected_aggregate": aggregate}
    assert "PD304" not in run(one_a100())[0]  # the wrong case: no error at all


def test_a_lost_gpu_is_named_by_its_bus_id_in_the_gpu_line():
    lost = {k: v for k, v in A100S["gpus"][0].items() if k in ("index", "pci_bus_id")}
    facts = {"nvml": {**A100S, "gpus": [{**lost, "error": "GpuIsLost"}, A100S["gpus"][1]]}}
    _, areas = run(facts)
    assert "1× GPU 0 lost (00000000:07:00.0)" in areas["gpu"].summary, areas["gpu"].summary
    facts["nvml"]["gpus"][0].pop("pci_bus_id")  # no bus id: the error names it
    assert "1× GPU 0 lost (GpuIsLost)" in run(facts)[1]["gpu"].summary


# --- cuda: PD210's fix names the Paddle it is about -------------------------------------------

def test_pd210_fix_names_the_paddle_version_that_dlopens_libcublas():
    facts = {"paddle": {"version_file": REAL_VF}, "nvml": A100S,
             "cuda_runtime": {"cuda_major": "11", "pip_build": False,  # the probe's shape, no cuBLAS
                              "libraries": {"cublas": {"soname": "libcublas.so", "path": None}}}}
    f = run(facts)[0]["PD210"]
    assert f.title.endswith("libcublas.so not found"), f.title
    assert f.fix.text.startswith("Paddle 2.6.2 dlopens the unversioned libcublas.so"), f.fix.text


# --- a 0 or 1 where the probes write a bool is not read as the bool ---------------------------
# (as compiled_with_nccl: 0 above; the probes write JSON booleans, a hand-edited report may not)

def test_a_number_where_a_bool_belongs_is_not_taken_for_it():
    bench = {"options": {"model": "mlp"}, "model_checkpoint": {"exact": 0, "mismatches": ["w"]}}
    assert "PD701" not in run({"bench": bench})[0]
    assert "PD701" in run({"bench": {**bench, "model_checkpoint": {"exact": False, "mismatches": ["w"]}}})[0]
    model_run = {"deterministic": 0, "variants": {"typical": {"exact": False},
                                                  "full": {"exact": False, "first_differing_step": 3}}}
    found = run({"bench": {"options": {"model": "mlp"}, "model_run": model_run}})[0]
    assert "PD714" in found and "PD715" not in found  # 0 is not "the two runs differed"
    found = run({"bench": {"options": {"model": "mlp"}, "model_run": {**model_run, "deterministic": False}}})[0]
    assert "PD714" not in found
    unreadable = {"found": 1, "version_file": Unavailable("paddle/version/__init__.py is unreadable")}
    assert "PD108" not in run({"paddle": unreadable})[0]
    assert "PD108" in run({"paddle": {**unreadable, "found": True}})[0]


# --- bench: PD707 puts safetensors' share of the disk beside paddle.save's ---------------------

def test_pd707_evidence_gives_safetensors_share_of_the_same_disk():
    b = {"dygraph": {"save_best_mbps": 150.0}, "disk": {"write_mbps": 1000.0},
         "safetensors": {"save_mbps": 800.0}}  # figures of our own, in the bench's shape
    f = run({"bench": b})[0]["PD707"]
    assert f.evidence["efficiency"] == "15%" and f.evidence["safetensors_efficiency"] == "80%"
    assert "(80% of the disk)" in f.fix.text


# --- fleet: PD906 lists eight secret names, then says how many more ---------------------------

@pytest.mark.parametrize("count", [8, 9])
def test_pd906_lists_eight_names_then_counts_the_rest(count):
    names = [f"S{i}" for i in range(count)]
    fleet = {"scope": "rank", "launch": {"log_dir": "log"},
             "env_on_disk": {"files": ["log/envlog.0"], "secret_names": names}}
    f = run({"fleet": fleet})[0]["PD906"]
    assert f.title.endswith(f"with {count} secret-looking variable(s): S0, S1, S2, S3, S4, S5, S6, S7"
                            + ("" if count == 8 else ", ... 1 more")), f.title
    assert f.evidence["secret_variable_names"] == names


# --- the area lines: --skip within the areas asked for ----------------------------------------

def test_skip_narrows_the_areas_asked_for_it_does_not_add_the_others():
    _, areas = checks.run(cudnn_facts(), {"skip": "gpu"}, areas=["gpu", "cuda"])
    assert [a.area for a in areas] == ["cuda"]
    _, areas = checks.run(cudnn_facts(), {}, areas=["gpu", "cuda"])
    assert sorted(a.area for a in areas) == ["cuda", "gpu"]


# --- stack: PD150 counts pip's own copies of a library, not the system's ----------------------

def test_pd150_on_two_majors_of_pips_cudnn_not_a_system_copy_beside_one():
    system = {"path": "/usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.7", "version": "8.9.7", "source": "ldconfig"}
    pip8 = {"path": "/venv/site-packages/nvidia/cudnn/lib/libcudnn.so.8", "version": "8", "source": "pip"}
    pip9 = {"path": "/venv/site-packages/nvidia/cudnn/lib/libcudnn.so.9", "version": "9", "source": "pip"}
    stack = {"distributions": {}}  # no wheel names: the sonames alone tell the majors
    (f,) = [x for x in checks.run({"stack": stack, "cuda_libs": {"cudnn": [pip8, pip9]}}, {})[0]
            if x.code == "PD150"]
    assert f.evidence == {"library": "cuDNN", "copies": {"so.8": [pip8["path"]], "so.9": [pip9["path"]]}}
    found, _ = checks.run({"stack": stack, "cuda_libs": {"cudnn": [system, pip9]}}, {})
    assert "PD150" not in {x.code for x in found}  # the wrong case: the system's cuDNN is no pip copy
