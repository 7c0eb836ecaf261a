"""The requirements from a config file (paddledoctor.toml, [tool.paddledoctor] in pyproject.toml),
the CLI options that override it, and `check --junit FILE`."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from conftest import NO_DRIVER, codes_of, run_cli, run_json

from paddledoctor import PreflightError, preflight
from paddledoctor.config import ConfigError, find_config, load_config, parse_size, resolve

HUGE = "1000TiB"  # more free disk than any test machine has


@pytest.fixture(autouse=True)
def config_search_on(monkeypatch, tmp_path):
    """These tests are about the search for a config file: the suite's PADDLEDOCTOR_CONFIG=none
    (tests/conftest.py) is lifted here. Each test runs in a tmp_path holding its own file, made a
    project's root (a .git folder, where the search stops), so that a paddledoctor.toml above the
    temporary folders (tools/hermetic.sh toml) is never read."""
    monkeypatch.delenv("PADDLEDOCTOR_CONFIG", raising=False)
    (tmp_path / ".git").mkdir(exist_ok=True)


def test_paddledoctor_config_env_turns_the_search_off_or_names_the_file(tmp_path, monkeypatch):
    (tmp_path / "paddledoctor.toml").write_text("min-gpus = 8\n")
    monkeypatch.chdir(tmp_path)
    assert resolve({})[0] == {"min_gpus": 8}
    monkeypatch.setenv("PADDLEDOCTOR_CONFIG", "none")
    assert resolve({}) == ({}, None)
    other = tmp_path / "other.toml"
    other.write_text("min-gpus = 2\n")
    monkeypatch.setenv("PADDLEDOCTOR_CONFIG", str(other))
    assert resolve({}) == ({"min_gpus": 2}, str(other))
    assert resolve({}, False) == ({}, None)  # an explicit choice wins over the environment
    proc, doc = run_json("check", "--quick", nvml=NO_DRIVER, cwd=tmp_path,
                         env={"PADDLEDOCTOR_CONFIG": "none"})
    assert proc.returncode == 0 and "PD601" not in codes_of(doc)


@pytest.mark.parametrize("text, expected", [
    ("20GiB", 20 << 30), ("20 GiB", 20 << 30), ("100GB", 100 * 10 ** 9), ("512MiB", 512 << 20),
    ("1.5GiB", 3 << 29), ("4096", 4096), (4096, 4096), ("2TiB", 2 << 40), ("10gib", 10 << 30)])
def test_sizes(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("100g", 100 << 30), ("100G", 100 << 30), ("512m", 512 << 20), ("2t", 2 << 40), ("64k", 64 << 10)])
def test_a_bare_letter_is_binary_as_in_df_h_and_the_bench(text, expected):
    """In a requirement, `100g` is 100 GiB, as `df -h`, `free -g`, `dd` and Docker's `--shm-size`
    write it, and as `bench --size` reads it: one meaning for one spelling. The SI form stays
    SI (`100GB` is 10^9)."""
    assert parse_size(text) == expected
    assert parse_size(text) == parse_size(text + "ib")
    assert parse_size(text + "b") == int(text[:-1]) * 1000 ** ("kmgt".index(text[-1].lower()) + 1)


@pytest.mark.parametrize("bad", ["20 GiBs", "lots", "", "-1GiB", True, [1], -5, "1PiB"])
def test_bad_sizes_name_the_value(bad):
    with pytest.raises(ConfigError):
        parse_size(bad)


def test_paddledoctor_toml_and_pyproject(tmp_path):
    (tmp_path / "paddledoctor.toml").write_text(
        'require-gpu = true\nmin_gpus = 8\nmin-free-gpu-mem = "20GiB"\ncheckpoint-dir = "ckpt"\n')
    got = load_config(tmp_path / "paddledoctor.toml")
    assert got == {"require_gpu": True, "min_gpus": 8, "min_free_gpu_mem": 20 << 30,
                   "checkpoint_dir": str(tmp_path / "ckpt")}  # relative to the file
    project = tmp_path / "project"
    (project / "src" / "deep").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.paddledoctor]\nmin-free-disk = "100GiB"\ntimeout = 30\n')
    assert load_config(project / "pyproject.toml") == {"min_free_disk": 100 << 30, "timeout": 30.0}
    # found from a subfolder; the nearer file wins over one further up
    assert find_config(project / "src" / "deep") == project / "pyproject.toml"
    assert find_config(tmp_path) == tmp_path / "paddledoctor.toml"


def test_a_pyproject_without_our_table_is_passed_over(tmp_path):
    (tmp_path / "paddledoctor.toml").write_text("min-gpus = 1\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[tool.ruff]\nline-length = 100\n')
    assert find_config(inner) == tmp_path / "paddledoctor.toml"
    with pytest.raises(ConfigError, match=r"no \[tool.paddledoctor\] table"):
        load_config(inner / "pyproject.toml")


@pytest.mark.parametrize("text, words", [
    ("min-gpu = 8\n", "unknown setting 'min-gpu'"),
    ("min-gpus = '8'\n", "whole number"),
    ("min-free-disk = 'a lot'\n", "not a size"),
    ("timeout = 0\n", "between 1 and 3600"),
    ("min-gpus = [\n", "not valid TOML"),
])
def test_bad_config_files_name_the_file_and_the_setting(tmp_path, text, words):
    path = tmp_path / "paddledoctor.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_arguments_win_over_the_file(tmp_path):
    path = tmp_path / "paddledoctor.toml"
    path.write_text('min-gpus = 8\nmin-free-disk = "100GiB"\nstrict = true\n')
    merged, used = resolve({"min_gpus": 0, "min_free_disk": None, "strict": None}, path)
    assert used == str(path)
    assert merged == {"min_gpus": 0, "min_free_disk": 100 << 30, "strict": True}
    assert resolve({"min_gpus": 2}, False) == ({"min_gpus": 2}, None)
    with pytest.raises(ConfigError, match="does not exist"):
        resolve({}, tmp_path / "missing.toml")


def test_preflight_reads_the_config_file_of_the_current_folder(fake_nvml, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(f'[tool.paddledoctor]\nmin-free-disk = "{HUGE}"\n')
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PreflightError) as info:
        preflight(quick=True)
    assert [f.code for f in info.value.findings] == ["PD604"]
    assert info.value.report.options["config_file"] == str(tmp_path / "pyproject.toml")
    report = preflight(quick=True, min_free_disk="1KiB")  # the argument wins
    assert report.exit_code() == 0
    assert preflight(quick=True, config=False).exit_code() == 0  # no file at all


# --- the CLI ------------------------------------------------------------------------------------

def test_check_uses_the_config_file_and_options_override_it(tmp_path):
    (tmp_path / "paddledoctor.toml").write_text(f'min-free-disk = "{HUGE}"\nrequire-gpu = false\n')
    proc, doc = run_json("check", "--quick", nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert codes_of(doc) == {"PD300", "PD604"}
    assert doc["options"]["config_file"] == str(tmp_path / "paddledoctor.toml")
    proc, doc = run_json("check", "--quick", "--min-free-disk", "1MiB", nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert doc["options"]["min_free_disk"] == 1 << 20
    other = tmp_path / "other.toml"
    other.write_text("min-gpus = 4\n")
    proc, doc = run_json("check", "--quick", "--config", str(other), nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 1 and "PD602" in codes_of(doc) and "PD604" not in codes_of(doc)


def test_check_requirement_options_in_text_output(tmp_path):
    target = tmp_path / "ckpt"
    proc = run_cli("check", "--quick", "--min-free-disk", HUGE, "--checkpoint-dir", str(target),
                   nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "✗ Requirements: 1000 TiB free disk required" in proc.stdout
    assert f"ERROR PD604 1000 TiB free disk required at {target}," in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, words", [
    (["--min-free-disk", "plenty"], "not a size"),
    (["--min-free-gpu-mem", "20 parsecs"], "not a size"),
    (["--config", "missing.toml"], "does not exist"),
])
def test_bad_requirement_input_is_one_line_exit_2(tmp_path, args, words):
    proc = run_cli("check", "--quick", *args, nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and words in errors[0], proc.stderr


def test_a_broken_config_file_is_one_line_exit_2(tmp_path):
    (tmp_path / "paddledoctor.toml").write_text("min-gpus = \n")
    proc = run_cli("check", "--quick", nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 2 and "not valid TOML" in proc.stderr and "Traceback" not in proc.stderr


# --- JUnit ----------------------------------------------------------------------------------------

def _cases(path) -> dict:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    return suite, {c.get("classname"): c for c in suite.findall("testcase")}


def test_junit_one_case_per_area_and_the_failure_carries_the_fix(tmp_path):
    out = tmp_path / "reports" / "doctor.xml"
    out.parent.mkdir()
    proc, doc = run_json("check", "--quick", "--min-free-disk", HUGE, "--junit", str(out),
                         nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 1
    suite, cases = _cases(out)
    assert set(cases) == {f"paddledoctor.{a['area']}" for a in doc["areas"]}
    assert suite.get("tests") == str(len(doc["areas"])) and suite.get("failures") == "1"
    failure = cases["paddledoctor.requirements"].find("failure")
    assert failure.get("type") == "PD604" and failure.get("message").startswith("PD604 1000 TiB")
    assert "fix: Free some space" in failure.text and "$ du -sh" in failure.text
    assert cases["paddledoctor.host"].find("failure") is None
    assert cases["paddledoctor.ops"].find("skipped") is not None  # --quick: no training step
    assert "PD300" in cases["paddledoctor.gpu"].find("system-out").text  # info: output, not failure
    assert [p.get("value") for p in suite.iter("property") if p.get("name") == "verdict"] == \
        [doc["verdict"]]
    assert list(tmp_path.joinpath("reports").iterdir()) == [out], "no temporary file left behind"


def test_junit_passing_run_and_strict_warnings(tmp_path, monkeypatch):
    out = tmp_path / "ok.xml"
    proc = run_cli("check", "--quick", "--junit", str(out), nvml=NO_DRIVER, cwd=tmp_path,
                   env={"CUDA_VISIBLE_DEVICES": "0"})  # PD208, a warning
    assert proc.returncode == 0
    suite, cases = _cases(out)
    assert suite.get("failures") == "0"
    assert "PD208" in cases["paddledoctor.cuda"].find("system-out").text
    proc = run_cli("check", "--quick", "--strict", "--junit", str(out), nvml=NO_DRIVER,
                   cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": "0"})
    assert proc.returncode == 1
    suite, cases = _cases(out)
    assert suite.get("failures") == "1"
    assert cases["paddledoctor.cuda"].find("failure").get("type") == "PD208"


def test_junit_into_a_missing_folder_is_exit_2(tmp_path):
    proc = run_cli("check", "--quick", "--junit", str(tmp_path / "no" / "such" / "x.xml"),
                   nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 2 and "--junit" in proc.stderr and "Traceback" not in proc.stderr
