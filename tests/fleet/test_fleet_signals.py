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
from procs import run_tag, tagged, wait_until  # noqa: E402,F401 - run_tag: a fixture


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_signals() -> None:
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)


@pytest.mark.parametrize("signame, status", [("SIGTERM", 143), ("SIGHUP", 129)])
def test_a_rank_stopped_while_waiting_for_the_others_leaves_nothing(run_tag, tmp_path, signame,
                                                                    status):
    """Rank 0 of 2, and rank 1 never comes: its child sits in the join when the signal arrives."""
    tag = run_tag()
    shared, tmp = tmp_path / "shared", tmp_path / "tmp"
    shared.mkdir()
    tmp.mkdir()  # the rank's own work folder (the report it hands its child) is made in TMPDIR
    env = doctor_env(extra={**tag, "TMPDIR": str(tmp), "PADDLE_TRAINER_ID": "0",
                            "PADDLE_TRAINERS_NUM": "2",
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
    assert "Traceback" not in err and err.count("paddledoctor: ") == 1, err
    assert wait_until(lambda: not tagged(tag), 5) is True, tagged(tag)
    assert list(shared.iterdir()) == [] and list(tmp.iterdir()) == []


def _rank(rank: int, ports: list[int], tag: dict, tmp, *args: str) -> subprocess.Popen:
    """Rank ``rank`` of 2 on this machine, with the variables Paddle's launcher gives it."""
    master, *workers = ports
    env = doctor_env(extra={
        **tag, "TMPDIR": str(tmp), "PADDLE_TRAINER_ID": str(rank), "PADDLE_TRAINERS_NUM": "2",
        "PADDLE_MASTER": f"127.0.0.1:{master}", "PADDLE_DISTRI_BACKEND": "gloo",
        "PADDLE_TRAINER_ENDPOINTS": ",".join(f"127.0.0.1:{p}" for p in workers),
        "PADDLE_CURRENT_ENDPOINT": f"127.0.0.1:{workers[rank]}", "PADDLE_RANK_IN_NODE": str(rank),
        "PADDLE_LOCAL_RANK": str(rank), "PADDLE_LOCAL_SIZE": "2"})
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return subprocess.Popen([sys.executable, "-m", "paddledoctor", "fleet", "--timeout", "120",
                             *args], cwd=tmp.parent, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals)


def test_a_rank_stopped_while_its_marker_is_in_the_shared_dir_removes_it(run_tag, tmp_path):
    """Two real ranks; rank 1 is given no --dir, so it never comes to the shared-folder step and
    rank 0 waits there, its marker written in --dir. SIGTERM to rank 0: its child dies before it
    could remove the marker, and the rank removes it (and the folder) itself."""
    tags = [run_tag(), run_tag()]
    shared, tmps = tmp_path / "shared", [tmp_path / "tmp0", tmp_path / "tmp1"]
    for folder in (shared, *tmps):
        folder.mkdir()
    ports = [_free_port() for _ in range(3)]
    ranks = [_rank(0, ports, tags[0], tmps[0], "--dir", str(shared)),
             _rank(1, ports, tags[1], tmps[1])]
    try:
        marker = wait_until(lambda: list(shared.glob(".paddledoctor-fleet-*/rank-0")), 180, 0.02)
        assert marker, [r.poll() for r in ranks]
        assert ranks[0].poll() is None, ranks[0].communicate()
        ranks[0].send_signal(signal.SIGTERM)
        out, err = ranks[0].communicate(timeout=20)
    finally:
        for rank in ranks:
            if rank.poll() is None:
                rank.send_signal(signal.SIGTERM)  # rank 1 too: it cleans up after itself
            try:
                rank.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                rank.kill()
                rank.communicate()
    assert ranks[0].returncode == 143, (out, err)
    assert err.strip().splitlines()[-1] == "paddledoctor: stopped by SIGTERM"
    assert "Traceback" not in err and err.count("paddledoctor: ") == 1, err
    assert wait_until(lambda: not tagged(tags[0]), 5) is True, tagged(tags[0])
    assert list(shared.iterdir()) == [] and list(tmps[0].iterdir()) == []


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
