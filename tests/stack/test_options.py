"""The options people expect from a doctor (#15): -v, -q, --only/--skip, `ignore = [...]` in the
config file, `paddledoctor codes`, `paddledoctor fix`. The CLI runs as a user runs it (a child
process, on a simulated machine without an NVIDIA driver); `fix` runs in-process with its pip
runner replaced, so that no test installs anything."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from paddledoctor import codes, commands
from paddledoctor.model import Finding, Fix, Report, Severity
from tests.conftest import run_cli


def config_in(folder):
    """The suite turns the config search off (PADDLEDOCTOR_CONFIG=none, tests/conftest.py): these
    tests name the folder's paddledoctor.toml the way a user's search would find it."""
    path = folder / "paddledoctor.toml"
    return {"PADDLEDOCTOR_CONFIG": str(path) if path.exists() else "none"}


def test_quiet_prints_nothing_on_success_and_everything_on_failure(tmp_path):
    ok = run_cli("check", "--quick", "-q", cwd=tmp_path, env=config_in(tmp_path))
    assert ok.returncode == 0 and ok.stdout == "", ok.stdout
    bad = run_cli("check", "--quick", "-q", "--require", "gpu", cwd=tmp_path, env=config_in(tmp_path))
    assert bad.returncode == 1
    assert "PD601" in bad.stdout and "cannot train" in bad.stdout


def test_verbose_shows_the_facts_behind_each_line(tmp_path):
    plain = run_cli("check", "--quick", cwd=tmp_path, env=config_in(tmp_path))
    verbose = run_cli("check", "--quick", "-v", cwd=tmp_path, env=config_in(tmp_path))
    assert verbose.returncode == plain.returncode == 0
    assert "nvml.status: init_failed" in verbose.stdout
    assert "nvml.status" not in plain.stdout
    # an INFO finding shows its evidence under -v only
    assert "nvml: LibraryNotFound" in verbose.stdout and "nvml: LibraryNotFound" not in plain.stdout


def test_only_and_skip_select_areas_and_codes(tmp_path):
    proc = run_cli("check", "--quick", "--json", "--only", "gpu", cwd=tmp_path, env=config_in(tmp_path))
    doc = json.loads(proc.stdout)
    assert [a["area"] for a in doc["areas"]] == ["gpu"]
    assert {f["code"] for f in doc["findings"]} == {"PD300"}
    proc = run_cli("check", "--quick", "--json", "--skip", "PD300,host", cwd=tmp_path, env=config_in(tmp_path))
    doc = json.loads(proc.stdout)
    assert "PD300" not in {f["code"] for f in doc["findings"]}
    assert "host" not in [a["area"] for a in doc["areas"]] and "gpu" in [a["area"] for a in doc["areas"]]
    proc = run_cli("check", "--quick", "--json", "--only", "PD601", "--require", "gpu", cwd=tmp_path, env=config_in(tmp_path))
    assert {f["code"] for f in json.loads(proc.stdout)["findings"]} == {"PD601"}


@pytest.mark.parametrize("args", [("--only", "PD999"), ("--skip", "gpus"), ("--only", "x,PD101")])
def test_an_unknown_area_or_code_is_one_line_and_exit_2(tmp_path, args):
    proc = run_cli("check", "--quick", *args, cwd=tmp_path, env=config_in(tmp_path))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_ignored_findings_stay_in_the_json_and_leave_the_verdict(tmp_path):
    (tmp_path / "paddledoctor.toml").write_text('require-gpu = true\nignore = ["PD601", "pd300"]\n')
    proc = run_cli("check", "--quick", "--json", cwd=tmp_path, env=config_in(tmp_path))
    doc = json.loads(proc.stdout)
    by = {f["code"]: f for f in doc["findings"]}
    assert by["PD601"]["ignored"] is True and by["PD300"]["ignored"] is True
    assert proc.returncode == 0 and doc["exit_code"] == 0
    assert "cannot" not in doc["verdict"]
    text = run_cli("check", "--quick", cwd=tmp_path, env=config_in(tmp_path))
    assert text.returncode == 0
    assert "ignored by the config file: PD601 (error)" in text.stdout
    assert "ERROR PD601" not in text.stdout
    # the wrong case: the same requirement without ignore fails
    (tmp_path / "paddledoctor.toml").write_text("require-gpu = true\n")
    assert run_cli("check", "--quick", cwd=tmp_path, env=config_in(tmp_path)).returncode == 1


def test_ignored_survives_a_round_trip_through_from(tmp_path):
    (tmp_path / "paddledoctor.toml").write_text('require-gpu = true\nignore = ["PD601"]\n')
    rec = tmp_path / "rec.json"
    rec.write_text(run_cli("check", "--quick", "--json", cwd=tmp_path, env=config_in(tmp_path)).stdout)
    again = run_cli("check", "--json", "--from", str(rec), cwd=tmp_path, env=config_in(tmp_path))
    doc = json.loads(again.stdout)
    assert again.returncode == 0 and {f["code"]: f for f in doc["findings"]}["PD601"]["ignored"]


def test_an_unknown_code_in_ignore_is_a_config_error(tmp_path):
    (tmp_path / "paddledoctor.toml").write_text('ignore = ["PD306", "PD999"]\n')
    proc = run_cli("check", "--quick", cwd=tmp_path, env=config_in(tmp_path))
    assert proc.returncode == 2 and "PD999" in proc.stderr and "Traceback" not in proc.stderr


def test_codes_lists_every_code_with_its_title(tmp_path):
    proc = run_cli("codes", cwd=tmp_path, env=config_in(tmp_path))
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert len(lines) == len(codes.CODES)
    assert any(line.startswith("PD114  error  paddle") and codes.CODES["PD114"].title in line
               for line in lines)
    doc = json.loads(run_cli("codes", "--json", "--area", "host", cwd=tmp_path, env=config_in(tmp_path)).stdout)
    assert {c["code"] for c in doc} == {c for c, e in codes.CODES.items() if e.area == "host"}
    bad = run_cli("codes", "--area", "nope", cwd=tmp_path, env=config_in(tmp_path))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


# --- fix -----------------------------------------------------------------------------------------

def _report(*findings) -> Report:
    return Report(facts={}, findings=list(findings), areas=[], doctor_version="t", mode="quick")


NUMPY = Finding("PD113", Severity.ERROR, "numpy 2.1.3 breaks Paddle 2.6.2",
                fix=Fix(['python -m pip install "numpy<2"'], ""), area="paddle")
CONDA = Finding("PD152", Severity.WARN, "mixed", area="paddle",
                fix=Fix(["conda remove --force -y numpy"], ""))


@pytest.fixture
def fixing(monkeypatch):
    """fix with the checks and pip replaced: checks answer [before, after], pip calls are kept."""
    state = {"reports": [_report(NUMPY, CONDA), _report()], "ran": [], "checks": 0}

    def fake_check(quick=True, timeout=60.0):
        state["checks"] += 1
        return state["reports"].pop(0)

    monkeypatch.setattr("paddledoctor.doctor.check", fake_check)
    monkeypatch.setattr(commands, "run_pip", lambda argv: state["ran"].append(argv) or 0)
    monkeypatch.setattr(commands, "in_managed_environment", lambda: "venv")
    return state


def test_fix_runs_the_pip_commands_after_yes_and_rechecks(fixing):
    result = CliRunner().invoke(commands.fix_command, ["--yes"])
    assert result.exit_code == 0, result.output
    assert fixing["ran"] == [[sys.executable, "-m", "pip", "install", "numpy<2"]]
    assert fixing["checks"] == 2 and "Resolved: PD113, PD152" in result.output
    assert "not run (PD152): conda remove --force -y numpy" in result.output


def test_fix_asks_first_and_runs_nothing_on_no(fixing):
    result = CliRunner().invoke(commands.fix_command, [], input="n\n")
    assert fixing["ran"] == [] and "nothing was run" in result.output
    assert result.exit_code == 1  # the error is still there


def test_fix_dry_run_runs_nothing(fixing):
    result = CliRunner().invoke(commands.fix_command, ["--dry-run"])
    assert fixing["ran"] == [] and '$ python -m pip install "numpy<2"' in result.output


def test_fix_refuses_outside_a_venv_unless_forced(fixing, monkeypatch):
    monkeypatch.setattr(commands, "in_managed_environment", lambda: None)
    result = CliRunner().invoke(commands.fix_command, ["--yes"])
    assert result.exit_code == 1 and "refusing" in result.output and fixing["ran"] == []
    fixing["reports"] = [_report(NUMPY), _report()]
    result = CliRunner().invoke(commands.fix_command, ["--yes", "--force"])
    assert result.exit_code == 0 and len(fixing["ran"]) == 1


def test_only_plain_pip_installs_are_runnable():
    assert commands._argv('python -m pip install "numpy<2"') == [sys.executable, "-m", "pip",
                                                                  "install", "numpy<2"]
    for cmd in ("python -m pip uninstall -y numpy", "sudo python -m pip install x",
                "python -m pip install x && rm -rf /", "conda install numpy", "python -m pip"):
        assert commands._argv(cmd) is None, cmd


def test_the_test_interpreter_is_a_venv():
    assert commands.in_managed_environment() in ("venv", "conda")
