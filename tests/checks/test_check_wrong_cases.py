"""Each detector shown the wrong case it exists for, on facts gathered by the real probes (issue #12:
these are the checks a reviewer's mutants deleted or loosened while the whole suite still passed).

The machine under test is this one, probed for real; only the one fact a test is about comes from
elsewhere, and the real probe reads it: another CPU's /proc/cpuinfo, a container's cgroup files,
an interpreter that has no Paddle, an NVML that refuses to start (the fake NVML, the boundary where
GPUs are simulated)."""

from __future__ import annotations

import copy
import json
import platform

import pytest

from conftest import codes_of, run_json

from paddledoctor import doctor
from paddledoctor.model import Severity
from paddledoctor.probes import host

# A real /proc/cpuinfo of an AWS Graviton2 (Neoverse N1) core: ARM names its features "Features",
# and there is no AVX on ARM at all.
GRAVITON2_CPUINFO = """\
processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x3
CPU part\t: 0xd0c
CPU revision\t: 1

"""
# A real /proc/cpuinfo line set of an Intel Pentium G4560-class x86 core without AVX (Celeron and
# Pentium parts of that era had SSE4.2 but AVX fused off).
PENTIUM_NO_AVX_CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
cpu family\t: 6
model\t\t: 158
model name\t: Intel(R) Celeron(R) CPU G3930 @ 2.90GHz
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc art arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx est tm2 ssse3 sdbg cx16 xtpr pdcm pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave rdrand lahf_lm abm 3dnowprefetch cpuid_fault invpcid_single pti ssbd ibrs ibpb stibp tpr_shadow vnmi flexpriority ept vpid ept_ad fsgsbase tsc_adjust smep erms invpcid mpx rdseed smap clflushopt intel_pt xsaveopt xsavec xgetbv1 xsaves dtherm arat pln pts hwp hwp_notify hwp_act_window hwp_epp md_clear flush_l1d

"""


@pytest.fixture(scope="module")
def this_machine() -> dict:
    """This machine's facts from the real static probes (no paddle import)."""
    return doctor.collect_facts(quick=True)


def host_facts_of(monkeypatch, tmp_path, cpuinfo: str, machine: str) -> dict:
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    monkeypatch.setattr(host, "CPUINFO", str(path))
    monkeypatch.setattr(platform, "machine", lambda: machine)
    return host.probe()


def judged(facts: dict) -> dict:
    report = doctor.diagnose(facts, mode="quick")
    return {f.code: f for f in report.findings}


# --- PD401: no AVX, only where AVX is a thing -----------------------------------------------------

def test_an_arm_host_without_avx_is_no_error(this_machine, monkeypatch, tmp_path):
    facts = copy.deepcopy(this_machine)
    facts["host"] = host_facts_of(monkeypatch, tmp_path, GRAVITON2_CPUINFO, "aarch64")
    assert facts["host"]["os"]["machine"] == "aarch64"
    assert facts["host"]["cpu"]["flags"]["avx"] is False  # the probe read the ARM features
    found = judged(facts)
    assert "PD401" not in found, found["PD401"].title


def test_an_x86_host_without_avx_is_pd401(this_machine, monkeypatch, tmp_path):
    facts = copy.deepcopy(this_machine)
    facts["host"] = host_facts_of(monkeypatch, tmp_path, PENTIUM_NO_AVX_CPUINFO, "x86_64")
    assert facts["host"]["cpu"]["flags"] == {
        "sse4_2": True, "avx": False, "avx2": False, "fma": False, "avx512f": False,
        "avx512_bf16": False, "amx_bf16": False}
    found = judged(facts)
    assert found["PD401"].severity is Severity.ERROR
    assert "Celeron(R) CPU G3930" in found["PD401"].title


# --- the container's memory limit (cgroup v2 and v1), read by the real probe -----------------------

@pytest.mark.parametrize("name", ["memory.max", "memory/memory.limit_in_bytes"])
def test_a_containers_memory_limit_is_read_and_judged(this_machine, monkeypatch, tmp_path, name):
    limit = 1 << 30  # a 1 GiB container on a host with far more
    (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / name).write_text(f"{limit}\n")
    monkeypatch.setattr(host, "CGROUP_ROOT", str(tmp_path))
    facts = copy.deepcopy(this_machine)
    facts["host"] = host.probe()
    memory = facts["host"]["memory"]
    assert memory["cgroup_limit"] == limit
    if memory["available"] < 2 * limit:
        pytest.skip("this host has less than 2 GiB available: the limit would not be what binds")
    found = judged(facts)
    assert "PD403" in found and "container limit 1 GiB" in found["PD403"].title


@pytest.mark.parametrize("text", ["max\n", "9223372036854771712\n"])
def test_no_memory_limit_is_no_limit(monkeypatch, tmp_path, text):
    """cgroup v2 writes "max"; v1 writes PAGE_COUNTER_MAX in bytes (2^63 rounded to a page)."""
    (tmp_path / "memory.max").write_text(text)
    monkeypatch.setattr(host, "CGROUP_ROOT", str(tmp_path))
    assert "cgroup_limit" not in host.probe()["memory"]


# --- PD100: an interpreter with no Paddle at all ----------------------------------------------------

def test_an_interpreter_without_paddle_is_pd100_and_cannot_train(python_without_paddle):
    proc, doc = run_json("check", python=python_without_paddle)
    assert proc.returncode == 1, proc.stderr
    errors = {f["code"] for f in doc["findings"] if f["severity"] == "error"}
    assert errors == {"PD100"}, doc["findings"]
    pd100 = next(f for f in doc["findings"] if f["code"] == "PD100")
    assert any("paddlepaddle" in c for c in pd100["fix"]["commands"]), pd100["fix"]
    assert doc["verdict"].startswith("This machine cannot train with PaddlePaddle")
    assert doc["facts"]["paddle"] == {"found": False}


# --- PD307: NVML there but refusing to start -------------------------------------------------------

@pytest.mark.parametrize("error, words", [("NoPermission", "Insufficient Permissions"),
                                          ("Unknown", "Unknown Error")])
def test_nvml_that_cannot_start_is_pd307(error, words):
    proc, doc = run_json("check", "--quick", nvml={"init_error": error})
    found = {f["code"]: f for f in doc["findings"]}
    assert "PD307" in found, doc["findings"]
    assert error in found["PD307"]["title"] and words in found["PD307"]["title"]


def test_a_gpu_whose_queries_fail_is_pd307():
    gpus = [{"name": "NVIDIA A100-SXM4-80GB", "cc": [8, 0]},
            {"name": "NVIDIA A100-SXM4-80GB", "cc": [8, 0], "handle_error": "NoPermission"}]
    proc, doc = run_json("check", "--quick", nvml={"driver_version": "550.54.14",
                                                   "cuda_driver_version": 12040, "gpus": gpus})
    pd307 = [f for f in doc["findings"] if f["code"] == "PD307"]
    assert len(pd307) == 1 and "GPU 1" in pd307[0]["title"], doc["findings"]
    assert "NoPermission" in pd307[0]["title"]


# --- PD206: NCCL on several GPUs, except on Windows where none exists -------------------------------

def _fixture(name: str) -> dict:
    from conftest import SYNTHESIZED
    return doctor.load_report_facts(SYNTHESIZED / f"{name}.json")


def test_pd206_on_linux_but_not_on_windows():
    facts = _fixture("nccl_missing_multi_gpu")
    assert "PD206" in judged(facts)
    facts["host"]["os"]["system"] = "Windows"
    assert "PD206" not in judged(facts)


# --- PD402: a Docker-sized /dev/shm, measured by the real probe on a real 64 MiB tmpfs ---------------

def test_a_64_mib_shm_is_pd402(this_machine, tmp_path):
    """A real tmpfs of 64 MiB (Docker's default) in a user+mount namespace, probed by the real host
    probe through PADDLEDOCTOR_SHM_PATH. Where the host forbids namespaces the test says so."""
    import shutil
    import subprocess
    import sys
    if not shutil.which("unshare"):
        pytest.skip("needs unshare (util-linux) to mount a 64 MiB tmpfs without privileges")
    mnt = tmp_path / "shm"
    mnt.mkdir()
    script = (f"mount -t tmpfs -o size=64m tmpfs {mnt} && PADDLEDOCTOR_SHM_PATH={mnt} "
              f"{sys.executable} -c 'import json; from paddledoctor.probes import host; "
              f"print(json.dumps(host.probe()[\"shm\"]))'")
    proc = subprocess.run(["unshare", "-rm", "sh", "-ec", script], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode and "unshare" in proc.stderr:
        pytest.skip(f"this host forbids user namespaces: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr
    shm = json.loads(proc.stdout)
    assert shm["total"] == 64 << 20 and shm["path"] == str(mnt)
    facts = copy.deepcopy(this_machine)
    facts["host"]["shm"] = shm
    found = judged(facts)
    assert "PD402" in found and "/dev/shm is 64 MiB" in found["PD402"].title
