"""Environment text pasted into issues, read into facts (paddledoctor/paste/): each parser on real
pasted text (tests/paste/samples/, sources in MANIFEST.json), the same text as users decorate it
(quotes, fences, CRLF, prompts, Chinese around it), wrong cases, and whole issue bodies through
``check --from`` and ``explain``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paddledoctor.doctor import diagnose, load_facts
from paddledoctor.knowledge import gpus
from paddledoctor.model import NOT_IN_PASTE, ReportFormatError, Unavailable
from paddledoctor.paste import read_paste

HERE = Path(__file__).resolve().parent
SAMPLES = HERE / "samples"
ROOT = HERE.parent.parent
MANIFEST = json.loads((SAMPLES / "MANIFEST.json").read_text(encoding="utf-8"))
MiB = 1 << 20


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def facts_of(text: str) -> dict:
    return read_paste(text).facts


def codes_of(text: str) -> list[str]:
    return [f.code for f in diagnose(facts_of(text), {}, mode="pasted").findings]


def gpus_of(facts: dict) -> list[tuple]:
    return [(g["name"], g["compute_capability"]) for g in facts["nvml"]["gpus"]]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paddledoctor", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_every_sample_has_its_source():
    files = {p.name for p in SAMPLES.iterdir() if p.name != "MANIFEST.json"}
    assert files == set(MANIFEST) - {"_about"}
    github = [n for n, m in MANIFEST.items() if n != "_about" and m["source"].startswith("https://github.com/")]
    assert len(github) >= 12
    assert sum(any("\u4e00" <= ch <= "\u9fff" for ch in sample(n)) for n in github) >= 6


# --- nvidia-smi -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, driver, cuda, expected_gpus", [
    ("smi_tesla_p4_wyoming.txt", "550.135", "12.4", [("Tesla P4", "6.1")]),
    ("smi_v100_prompt_ibeat.txt", "510.73.08", "11.6", [("Tesla V100-SXM2...", "7.0")]),
    ("smi_kmd_rtx3080_finpilot.txt", "610.43.03", "13.3", [("NVIDIA GeForce RTX 3080 ...", "8.6")]),
    ("smi_titanxp_nvgpu.txt", "450.57", "11.0", [("TITAN Xp", "6.1")]),
    ("smi_q_gtx1080.txt", "396.54", None, [("GeForce GTX 1080", "6.1")]),
])
def test_nvidia_smi_real_outputs(name, driver, cuda, expected_gpus):
    facts = facts_of(sample(name))
    nvml = facts["nvml"]
    assert nvml["status"] == "ok"
    assert nvml["driver_version"] == driver
    assert nvml["cuda_driver_version"] == (cuda if cuda else Unavailable(NOT_IN_PASTE))
    assert gpus_of(facts) == expected_gpus
    assert nvml["gpu_count"] == len(expected_gpus)


def test_nvidia_smi_memory_and_processes():
    g = facts_of(sample("smi_tesla_p4_wyoming.txt"))["nvml"]["gpus"][0]
    assert g["memory"] == {"total": 8192 * MiB, "used": 7719 * MiB, "free": 473 * MiB}
    assert g["utilization_gpu"] == 6 and g["pci_bus_id"] == "00000000:86:00.0"
    # the table is cut right after "Processes:": the processes are not known, not "none"
    assert g["processes"] == [] or isinstance(g["processes"], Unavailable)
    t = facts_of(sample("smi_titanxp_nvgpu.txt"))["nvml"]["gpus"][0]
    assert t["memory"]["total"] == 12196 * MiB and t["memory"]["used"] == 7 * MiB


def test_nvidia_smi_processes_table_feeds_the_busy_check():
    table = sample("smi_titanxp_nvgpu.txt").replace("```\n", "", 1).rstrip("`\n") + "\n" + (
        "+-----------------------------------------------------------------------------+\n"
        "| Processes:                                                                  |\n"
        "|  GPU   GI   CI        PID   Type   Process name                  GPU Memory |\n"
        "|        ID   ID                                                   Usage      |\n"
        "|=============================================================================|\n"
        "|    0   N/A  N/A     24311      C   python                          11800MiB |\n"
        "+-----------------------------------------------------------------------------+\n")
    facts = facts_of(table)
    assert facts["nvml"]["gpus"][0]["processes"] == [
        {"pid": 24311, "name": "python", "used_memory": 11800 * MiB}]
    assert "PD306" in [f.code for f in diagnose(facts, {}, mode="pasted").findings]
    assert "PD306" not in codes_of(sample("smi_titanxp_nvgpu.txt"))


def test_nvidia_smi_q_without_a_known_name_leaves_cc_unknown():
    facts = facts_of(sample("smi_q_quadro_m1000m.txt"))
    assert facts["nvml"]["driver_version"] == "375.82"
    g = facts["nvml"]["gpus"][0]
    assert g["name"] == "Quadro M1000M" and isinstance(g["compute_capability"], Unavailable)
    assert g["pci_bus_id"] == "0000:01:00.0"


def test_truncated_table_in_chinese_issue():
    text = sample("paddle_46571_centos6_truncated.md")
    facts = facts_of(text)
    assert facts["nvml"]["driver_version"] == "440.33.01"
    assert facts["nvml"]["gpu_count"] == 1  # a driver version: at least one GPU, unnamed
    assert isinstance(facts["nvml"]["gpus"][0]["name"], Unavailable)
    assert "PD141" in codes_of(text)
    # a wheel the user was installing is not an installed package
    assert isinstance(facts["distributions"], Unavailable)


def test_smi_in_template_with_install_commands():
    text = sample("paddle_59011_smi_install_zh.md")
    facts = facts_of(text)
    assert (facts["nvml"]["driver_version"], facts["nvml"]["cuda_driver_version"]) == ("535.129.03", "12.2")
    assert isinstance(facts["distributions"], Unavailable), "pip install lines are not installed packages"


def test_nvidia_smi_failures():
    assert facts_of("$ nvidia-smi\nNVIDIA-SMI has failed because it couldn't communicate with the "
                    "NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n"
                    )["nvml"]["error_kind"] == "DriverNotLoaded"
    facts = facts_of("$ nvidia-smi\nFailed to initialize NVML: Driver/library version mismatch\n")
    assert "PD302" in [f.code for f in diagnose(facts, {}, mode="pasted").findings]


# --- packages ----------------------------------------------------------------------------------------

def test_pip_list_recorded():
    facts = facts_of(sample("recorded_local_pip_list.txt"))
    d = facts["distributions"]
    assert [(p["name"], p["version"]) for p in d["paddle_providers"]] == [("paddlepaddle", "3.3.1")]
    assert d["complete_list"] is True
    assert d["packages"]["numpy"][0]["version"]
    assert facts["paddle"]["version_file"]["cuda_version"] == "False"  # paddlepaddle: the CPU build


def test_pip_freeze_and_pip_show():
    facts = facts_of(sample("recorded_local_pip_freeze_grep.txt"))
    assert [p["name"] for p in facts["distributions"]["paddle_providers"]] == ["paddlepaddle"]
    facts = facts_of(sample("ocr_10429_nvcc_pip_show.md"))
    assert sorted((p["name"], p["version"]) for p in facts["distributions"]["paddle_providers"]) == [
        ("paddlepaddle", "2.5.2"), ("paddlepaddle-gpu", "2.5.1")]
    assert facts["distributions"]["packages"]["paddleocr"][0]["version"] == "2.7.0.1"
    assert "PD102" in codes_of(sample("ocr_10429_nvcc_pip_show.md"))


def test_conda_lists():
    facts = facts_of(sample("paddle_22996_conda_list.txt"))
    pk = facts["distributions"]["packages"]
    assert pk["cudatoolkit"][0]["version"] == "10.0.130" and pk["cudnn"][0]["version"] == "7.6.5"
    assert pk["-libgcc-mutex"][0]["version"] == "0.1"
    assert "PD141" in codes_of(sample("paddle_22996_conda_list.txt"))  # cut before paddlepaddle
    pk = facts_of(sample("paddle_24760_conda_list_zh.md"))["distributions"]["packages"]
    assert pk["cudatoolkit"][0]["version"] == "9.0" and pk["cudnn"][0]["version"] == "7.3.1"


def test_post_tag_gives_the_build_cuda_and_template_fields():
    facts = facts_of(sample("ocr_11945_run_check_no_gpu.md"))
    assert facts["distributions"]["paddle_providers"][0]["name"] == "paddlepaddle-gpu"
    assert facts["paddle"]["version_file"]["cuda_version"] == "11.2"
    assert facts["host"]["os"]["distribution"] == "Ubuntu 20.04.6 LTS"
    assert facts["runtime"]["devices"]["gpu_count"] == 0  # run_check: no GPU detected
    # no nvidia-smi in the text: "a GPU build on a machine without GPU" must not be claimed
    assert "PD207" not in codes_of(sample("ocr_11945_run_check_no_gpu.md"))


def test_pip_list_cut_before_paddle_is_not_paddle_missing():
    text = sample("ocr_13890_pip_list_no_paddle.md")
    codes = codes_of(text)
    assert "PD141" in codes and "PD100" not in codes
    assert facts_of(text)["paddle"]["version_file"]["cuda_version"] == "False"  # >>> ...False


# --- Paddle's outputs --------------------------------------------------------------------------------

def test_version_show_recorded():
    vf = facts_of(sample("recorded_local_version_show.txt"))["paddle"]["version_file"]
    assert vf["full_version"] == "3.3.1" and vf["cuda_version"] == "False"
    assert vf["compiled_cuda_archs"] == []


def test_python_c_version_and_cuda():
    facts = facts_of(sample("recorded_local_python_version_cuda.txt"))
    assert facts["paddle"]["version"] == "3.3.1"
    assert facts["paddle"]["version_file"]["cuda_version"] == "False"
    gpu = facts_of('$ python -c "import paddle; print(paddle.__version__, paddle.version.cuda())"\n'
                   "3.0.0 12.6\n")
    assert gpu["paddle"]["version_file"]["cuda_version"] == "12.6"


def test_run_check_outputs():
    assert facts_of(sample("recorded_local_run_check_cpu.txt"))["pasted"]["run_check"] == "works"
    facts = facts_of(sample("paddle_33956_run_check_hang.md"))
    assert facts["pasted"]["run_check"] == "started, no result"
    assert gpus_of(facts) == [("GeForce GTX 1070Ti", "6.1")]  # name from the prose, cc from Paddle
    assert facts["nvml"]["driver_version"] == "440.36"      # "nividia-驱动440.36"
    assert facts["paddle"]["version_file"]["cuda_version"] == "10.2"
    facts = facts_of(sample("paddlex_844_run_check_no_kernel.md"))
    assert facts["nvml"]["gpus"][0]["compute_capability"] == "8.6"
    assert facts["nvml"]["cuda_driver_version"] == "11.6"
    facts = facts_of(sample("ocr_1046_fluid_run_check.md"))  # 1.x: "CUDA Capability: 75"
    assert facts["nvml"]["gpus"][0]["compute_capability"] == "7.5"
    assert facts["pasted"]["run_check"] == "works"


def test_quoted_run_check_of_a_cpu_build():
    facts = facts_of(sample("paddle_30953_quoted_run_check.md"))
    assert facts["pasted"]["run_check"] == "no gpu"
    assert facts["paddle"]["version_file"]["cuda_version"] == "False"  # Not compiled with CUDA


def test_summary_env_output():
    # the exact layout of tools/summary_env.py's envs_template, filled as it prints
    text = ("****************************************\n"
            "Paddle version: 2.6.1\nPaddle With CUDA: True\n\n"
            "OS: ubuntu 20.04\nGCC version: (Ubuntu 9.4.0-1ubuntu1~20.04.2) 9.4.0\n"
            "Clang version: N/A\nCMake version: N/A\nLibc version: glibc 2.31\n"
            "Python version: 3.8.10\n\n"
            "CUDA version: 11.2.152\nBuild cuda_11.2.r11.2/compiler.29618528_0\n"
            "cuDNN version: 8.1.1\nNvidia driver version: 460.32.03\nNvidia driver List: \n"
            "GPU 0: Tesla V100-SXM2-32GB\nGPU 1: Tesla V100-SXM2-32GB\n\n"
            "****************************************\n")
    facts = facts_of(text)
    assert facts["nvml"]["driver_version"] == "460.32.03"
    assert gpus_of(facts) == [("Tesla V100-SXM2-32GB", "7.0")] * 2
    assert facts["host"]["os"]["system"] == "Linux" and facts["host"]["python"]["version"] == "3.8.10"
    assert facts["host"]["os"]["libc"] == "glibc 2.31"
    assert facts["paddle"]["version"] == "2.6.1"
    assert facts["pasted"]["toolkit"]["stated_cuda"] == "11.2.152"


# --- the system ---------------------------------------------------------------------------------------

def test_lscpu_os_release_uname_python_nvcc():
    host = facts_of(sample("recorded_local_lscpu.txt"))["host"]
    assert host["os"]["machine"] == "x86_64" and host["cpu"]["flags"]["avx"] is True
    host = facts_of(sample("recorded_local_os_uname_python.txt"))["host"]
    assert host["os"]["distribution"].startswith("Debian GNU/Linux 12")
    assert host["os"]["system"] == "Linux" and host["python"]["version"].startswith("3.")
    assert facts_of(sample("recorded_local_nvcc.txt"))["pasted"]["toolkit"]["nvcc"] == "13.0.88"
    f = facts_of(sample("paddle_44668_python_lsb_nvcc.md"))
    assert f["host"]["python"]["version"] == "3.10.4"
    assert f["host"]["os"]["distribution"] == "Ubuntu 22.04 LTS"
    assert f["pasted"]["toolkit"]["nvcc"] == "11.6.124"


def test_lscpu_without_avx_is_pd401_and_chinese_labels():
    text = sample("recorded_local_lscpu.txt")
    flags_line = next(line for line in text.splitlines() if line.startswith("Flags:"))
    no_avx = " ".join(f for f in flags_line.split() if not f.startswith("avx"))
    assert "PD401" in codes_of(text.replace(flags_line, no_avx))
    assert "PD401" not in codes_of(text)
    zh = "架构：                   x86_64\n型号名称：               Intel(R) Xeon(R) CPU E5-2650\n标记：  fpu sse4_2\n"
    assert facts_of(zh)["host"]["cpu"]["flags"]["avx"] is False and "PD401" in codes_of(zh)


def test_windows_from_python_banner():
    facts = facts_of(sample("paddlex_4285_windows_5090.md"))
    assert facts["host"]["os"]["system"] == "Windows"
    assert facts["host"]["python"]["version"] == "3.11.13"
    assert facts["paddle"]["version"] == "3.1.0"


# --- the same text as users decorate it ---------------------------------------------------------------

DECORATIONS = {
    "quoted": lambda t: "".join(f"> {line}\n" for line in t.splitlines()),
    "crlf": lambda t: t.replace("\n", "\r\n"),
    "fenced, Chinese around": lambda t: f"我的环境如下：\n```text\n{t}\n```\n谢谢！\n",
    "powershell prompt": lambda t: "PS C:\\Users\\me> nvidia-smi\n" + t,
    "conda prompt": lambda t: "(base) user@host:~$ nvidia-smi\n" + t,
}


def _no_lines(value):
    """Facts without their "read_from" (which names line numbers, moved by a decoration)."""
    if isinstance(value, dict):
        return {k: _no_lines(v) for k, v in value.items() if k != "read_from"}
    if isinstance(value, list):
        return [_no_lines(v) for v in value]
    return value


@pytest.mark.parametrize("how", sorted(DECORATIONS))
@pytest.mark.parametrize("name", ["smi_titanxp_nvgpu.txt", "recorded_local_pip_list.txt",
                                  "recorded_local_version_show.txt", "smi_q_gtx1080.txt"])
def test_decorations_do_not_change_the_facts(name, how):
    plain, decorated = facts_of(sample(name)), facts_of(DECORATIONS[how](sample(name)))
    for key in ("nvml", "distributions"):
        if isinstance(plain[key], dict):
            assert isinstance(decorated[key], dict), (how, key)
    if isinstance(plain["nvml"], dict):
        assert gpus_of(decorated) == gpus_of(plain)
        assert decorated["nvml"]["driver_version"] == plain["nvml"]["driver_version"]
    if isinstance(plain["distributions"], dict):
        assert _no_lines(decorated["distributions"]) == _no_lines(plain["distributions"])
    assert _no_lines(decorated["paddle"]) == _no_lines(plain["paddle"])


# --- wrong cases ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "", "hello\nworld\n", "我的程序报错了，请帮忙看看，谢谢！\n",
    "\x00\x01\x02 binary \xff garbage \x7f",
    "| not | a | table |\n+---+---+\n| 1 | 2 | 3 |\n",
    "Traceback (most recent call last):\n  File \"train.py\", line 3\nValueError: bad\n",
])
def test_garbage_reads_nothing(text):
    assert not read_paste(text).has_environment


def test_garbage_file_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "notes.md"
    bad.write_text("我的程序报错了，请帮忙看看。\nNo output attached.\n", encoding="utf-8")
    with pytest.raises(ReportFormatError, match="environment text"):
        load_facts(bad)
    r = cli("check", "--from", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_prose_and_install_lines_are_not_packages():
    f = facts_of("I tried pip install paddlepaddle-gpu==2.6.1 and\nconda install paddlepaddle-gpu==2.4.1 "
                 "cudatoolkit=11.7\npaddlepaddle 2.6 is not working for me\n")
    assert isinstance(f["distributions"], Unavailable)


def test_complete_pip_list_without_paddle_is_pd100():
    # synthesized from the recorded list: its paddlepaddle row removed
    text = "\n".join(line for line in sample("recorded_local_pip_list.txt").splitlines()
                     if not line.startswith("paddlepaddle"))
    facts = facts_of(text)
    assert facts["distributions"]["paddle_providers"] == []
    assert "PD100" in codes_of(text)
    assert "PD100" not in codes_of(sample("recorded_local_pip_list.txt"))


def test_truncated_table_rows():
    first = "\n".join(sample("smi_titanxp_nvgpu.txt").splitlines()[:6])  # header, no GPU rows
    facts = facts_of(first)
    assert facts["nvml"]["driver_version"] == "450.57" and facts["nvml"]["gpu_count"] == 1
    assert "PD141" in codes_of(first)
    assert "PD141" not in codes_of(sample("smi_titanxp_nvgpu.txt"))


def test_contradictions_are_pd140():
    text = sample("recorded_local_pip_list.txt") + (
        '\n$ python -c "import paddle; print(paddle.__version__, paddle.version.cuda())"\n3.3.1 12.6\n')
    facts = facts_of(text)
    assert facts["paddle"]["version_file"]["cuda_version"] == "12.6"  # Paddle's own word wins
    assert "PD140" in codes_of(text)
    assert "PD140" not in codes_of(sample("recorded_local_pip_list.txt"))
    two = sample("smi_titanxp_nvgpu.txt") + "\n" + sample("smi_tesla_p4_wyoming.txt")
    assert "PD140" in codes_of(two)


def test_unknown_is_never_a_finding():
    """Facts absent from the paste raise nothing: no PD001 for probes never run, no PD100 without a
    package list, no PD207 without nvidia-smi, no host warnings without host facts."""
    for name in MANIFEST:
        if name == "_about":
            continue
        codes = codes_of(sample(name))
        assert not {"PD001", "PD002", "PD108", "PD207", "PD402", "PD403", "PD404"} & set(codes), (name, codes)


@pytest.mark.parametrize("name, cc", [
    ("NVIDIA A100-SXM4-80GB", "8.0"), ("NVIDIA A10", "8.6"), ("NVIDIA A10G", "8.6"),
    ("NVIDIA H20", "9.0"), ("NVIDIA H200", "9.0"), ("NVIDIA L4", "8.9"), ("NVIDIA L40S", "8.9"),
    ("NVIDIA GeForce RTX 5090 D", "12.0"), ("Tesla T4", "7.5"), ("Tesla P40", "6.1"),
    ("Tesla P100-PCIE-16GB", "6.0"), ("NVIDIA GeForce RTX 4090", "8.9"), ("Tesla K80", "3.7"),
    ("NVIDIA RTX A6000", "8.6"), ("NVIDIA B200", "10.0"),
])
def test_gpu_names_to_compute_capability(name, cc):
    assert gpus.cc_for_name(name) == cc


def test_gpu_names_unknown():
    assert gpus.cc_for_name("Quadro M1000M") is None
    assert gpus.cc_for_name("Matrox G200eW") is None


# --- whole issue bodies, end to end -------------------------------------------------------------------

def test_real_issue_body_check_from():
    """PaddleOCR#16093: pip pins paddlepaddle==3.1.0 (the CPU build) and nvidia-smi shows driver
    525.60.13 with a V100: PD101 and the GPU wheel of 3.1.0 that runs on that driver and GPU."""
    r = cli("check", "--from", str(SAMPLES / "ocr_16093_v100_cpu_paddle.md"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "ERROR PD101" in r.stdout and "Traceback" not in r.stderr
    assert "read from the pasted text: pip freeze" in r.stdout and "driver 525.60.13" in r.stdout
    assert ("python -m pip install paddlepaddle-gpu==3.1.0 -i "
            "https://www.paddlepaddle.org.cn/packages/stable/cu118/") in r.stdout
    assert "python -m pip uninstall -y paddlepaddle" in r.stdout
    j = cli("check", "--from", str(SAMPLES / "ocr_16093_v100_cpu_paddle.md"), "--json")
    doc = json.loads(j.stdout)
    assert doc["mode"] == "pasted" and doc["exit_code"] == 1
    assert [f["code"] for f in doc["findings"] if f["severity"] == "error"] == ["PD101"]
    assert doc["facts"]["host"] == {"unavailable": NOT_IN_PASTE}


def test_assembled_body_check_from_and_explain():
    """nvidia-smi (Tesla P4, driver 550.135) plus pip list (paddlepaddle 3.3.1, CPU): PD101 and the
    cu126 wheel, whose SASS includes the P4's sm_61 and whose driver floor 550.135 meets."""
    body = str(SAMPLES / "assembled_body_p4_piplist.md")
    r = cli("check", "--from", body)
    assert r.returncode == 1 and "ERROR PD101" in r.stdout
    assert ("paddlepaddle-gpu==3.3.1 -i https://www.paddlepaddle.org.cn/packages/stable/cu126/"
            in r.stdout)
    e = cli("explain", body)
    assert e.returncode == 0, e.stdout + e.stderr
    assert "The environment pasted in the text" in e.stdout and "ERROR PD101" in e.stdout
    assert "paddlepaddle-gpu==3.3.1" in e.stdout
    ej = json.loads(cli("explain", body, "--json").stdout)
    assert [f["code"] for f in ej["pasted"]["findings"]] == ["PD101"]


def test_explain_of_a_plain_log_has_no_pasted_section(tmp_path):
    log = tmp_path / "train.log"
    log.write_text("epoch 1 loss 0.52\nepoch 2 loss 0.41\n", encoding="utf-8")
    e = cli("explain", str(log), "--json")
    assert "pasted" not in json.loads(e.stdout)


def test_recorded_json_report_still_reads_as_from():
    facts, mode, _areas, _doc = load_facts(ROOT / "tests" / "fixtures" / "synthesized" / "driver_too_old.json")
    assert mode == "from" and facts["nvml"]["driver_version"] == "470.256.02"
