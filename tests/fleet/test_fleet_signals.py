"""A fleet rank stopped by the launcher's SIGTERM (or a hang-up) while its collective child waits
for the other ranks: the child's group dies, one line, exit 128+n; and the markers a killed child
left in the shared --dir are removed by the rank itself."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import doctor_env
from paddledoctor.fleet.rank import remove_markers
from paddledoctor.probes.isolate import ChildResult

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "probes"))
from procs import new_tag, tagged, wait_until  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_signals() -> None:
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


@pytest.mark.parametrize("signame, status", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_rank_stopped_while_waiting_for_the_others_leaves_nothing(tmp_path, signame, status):
    """Rank 0 of 2, and rank 1 never comes: its child sits in the join when the signal arrives."""
    tag = new_tag()
    shared, tmp = tmp_path / "shared", tmp_path / "tmp"
    shared.mkdir()
    tmp.mkdir()  # the rank's own work folder (the report it hands its child) is made in TMPDIR
    env = doctor_env(extra={**tag, "TMPDIR": str(tmp), "PADDLE_TRAINER_ID": "0", "PADDLE_TRAINERS_NUM": "2",
                            "PADDLE_MASTER": f"127.0.0.1:{_free_port()}",
                            "PADDLE_DISTRI_BACKEND": "gloo"})
    env.pop("CUDA_VISIBLE_DEVICES", None)
    proc = subprocess.Popen([sys.executable, "-m", "paddledoctor", "fleet", "--dir", str(shared),
                             "--timeout", "120"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)
    try:
        child = wait_until(lambda: tagged(tag, "fleet_collective.py"), timeout=30)
        assert child, "the collective child never started"
        time.sleep(3)  # into paddle's import and the join
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(getattr(signal, signame))
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == status, (out, err)
    assert err.strip().splitlines()[-1] == f"paddledoctor: stopped by {signame}"
    assert "Traceback" not in err
    assert wait_until(lambda: not tagged(tag), 5) is True, tagged(tag)
    assert list(shared.iterdir()) == [] and list(tmp.iterdir()) == []


def test_the_markers_a_killed_child_left_are_removed_and_only_those(tmp_path):
    folder = tmp_path / ".paddledoctor-fleet-0123abcd"
    folder.mkdir()
    mine, other = folder / "rank-1", folder / "rank-0"
    mine.write_text("{}")
    other.write_text("{}")
    users = tmp_path / "users-file"
    users.write_text("keep")
    events = [{"event": "marker", "folder": str(folder), "path": str(mine)},
              # what no marker of ours looks like is never touched
              {"event": "marker", "folder": str(tmp_path), "path": str(users)}]
    result = ChildResult(events=events)

    assert remove_markers(result) == [str(mine)]  # rank 0's marker keeps the folder
    assert other.exists() and users.read_text() == "keep"
    other.unlink()
    mine.write_text("{}")
    assert remove_markers(result) == [str(mine), str(folder)]
    assert not folder.exists()
