"""Where the config file search stops (the user's home, a repository's root, a filesystem boundary),
`~` in the config's paths, and `check --no-config`."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest

from conftest import NO_DRIVER, codes_of, run_cli, run_json

from paddledoctor.config import find_config, load_config, resolve


@pytest.fixture(autouse=True)
def config_search_on(monkeypatch):
    """The suite's PADDLEDOCTOR_CONFIG=none (tests/conftest.py) is lifted: these tests search."""
    monkeypatch.delenv("PADDLEDOCTOR_CONFIG", raising=False)


def test_the_search_stops_at_the_users_home(tmp_path, monkeypatch):
    """A file above the home (another user's, or the machine's /paddledoctor.toml) never applies."""
    home = tmp_path / "home" / "ada"
    (home / "proj" / "src").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "paddledoctor.toml").write_text("min-gpus = 8\n")
    assert find_config(home / "proj" / "src") is None
    (home / "paddledoctor.toml").write_text("min-gpus = 1\n")
    assert find_config(home / "proj" / "src") == home / "paddledoctor.toml"


def test_the_search_stops_at_a_repositorys_root(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    repo = tmp_path / "outer" / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "train" / "configs").mkdir(parents=True)
    (tmp_path / "outer" / "paddledoctor.toml").write_text("min-gpus = 8\n")
    assert find_config(repo / "train" / "configs") is None
    (repo / "pyproject.toml").write_text("[tool.paddledoctor]\nmin-gpus = 2\n")
    assert find_config(repo / "train" / "configs") == repo / "pyproject.toml"
    (repo / ".git").rmdir()
    (repo / ".git").write_text("gitdir: ../.git/worktrees/repo\n")  # a worktree's .git is a file
    assert find_config(repo / "train") == repo / "pyproject.toml"


SEARCH_ACROSS_A_MOUNT = """
mount -t tmpfs none "$MNT"
mkdir -p "$MNT/project/src"
{python} -c 'import sys; from paddledoctor.config import find_config; print(find_config(sys.argv[1]))' "$MNT/project/src"
echo 'min-gpus = 2' > "$MNT/project/paddledoctor.toml"
{python} -c 'import sys; from paddledoctor.config import find_config; print(find_config(sys.argv[1]))' "$MNT/project/src"
"""


def test_the_search_does_not_cross_a_filesystem_boundary(tmp_path):
    """A real tmpfs mounted (user+mount namespace) under a folder that holds a config file: the
    search from inside the mount stops at the mount's root."""
    if not shutil.which("unshare"):
        pytest.skip("needs unshare (util-linux) to mount a tmpfs without privileges")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    (tmp_path / "paddledoctor.toml").write_text("min-gpus = 8\n")
    script = textwrap.dedent(SEARCH_ACROSS_A_MOUNT).format(python=sys.executable)
    proc = subprocess.run(["unshare", "-rm", "sh", "-ec", script], capture_output=True, text=True,
                          timeout=120, env={"MNT": str(mnt), "HOME": "/nonexistent",
                                            "PATH": "/usr/bin:/bin"})
    if proc.returncode and ("unshare" in proc.stderr or "mount" in proc.stderr):
        pytest.skip(f"no user namespaces here: {proc.stderr.strip()[:200]}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["None", f"{mnt}/project/paddledoctor.toml"]
    assert find_config(mnt) == tmp_path / "paddledoctor.toml"  # outside the mount: found


def test_tilde_in_a_config_path_is_the_users_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    (tmp_path / "paddledoctor.toml").write_text('checkpoint-dir = "~/ckpt"\n')
    home = tmp_path / "home"
    assert load_config(tmp_path / "paddledoctor.toml") == {"checkpoint_dir": str(home / "ckpt")}
    assert resolve({"checkpoint_dir": "~/runs"}, False)[0] == {"checkpoint_dir": str(home / "runs")}
    monkeypatch.setenv("PADDLEDOCTOR_CONFIG", "~/../paddledoctor.toml")
    assert resolve({})[0] == {"checkpoint_dir": str(home / "ckpt")}


def test_check_no_config_reads_no_file(tmp_path):
    (tmp_path / "paddledoctor.toml").write_text("min-gpus = 4\n")
    proc, doc = run_json("check", "--quick", nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 1 and "PD602" in codes_of(doc)
    proc, doc = run_json("check", "--quick", "--no-config", nvml=NO_DRIVER, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert "PD602" not in codes_of(doc) and "config_file" not in doc["options"]
    both = run_cli("check", "--quick", "--no-config", "--config", "paddledoctor.toml",
                   nvml=NO_DRIVER, cwd=tmp_path)
    assert both.returncode == 2 and both.stdout == ""
    assert [ln for ln in both.stderr.splitlines() if ln.startswith("Error:")] == \
        ["Error: --config and --no-config: give one of them"]
