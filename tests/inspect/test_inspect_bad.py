"""Bad input: malicious pickles are refused by name and provably not run; truncated, empty, random,
missing, directory and huge-claim inputs give one clear finding and exit 1, no traceback, bounded
memory."""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
import tracemalloc

import pytest

from inspect_support import codes, inspect_json, real_checkpoints, run_inspect

from paddledoctor.inspect import inspect, safepickle
from paddledoctor.inspect.reader import read_file


class RunsCommand:
    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class Evaluates:
    def __reduce__(self):
        return (eval, ("__import__('os').system('true')",))


def test_malicious_pickle_is_refused_named_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pdparams"
    state = {"linear.weight": [1.0, 2.0], "payload": RunsCommand(f"touch {marker}")}
    evil.write_bytes(pickle.dumps(state, protocol=2))
    proc, doc = inspect_json(evil)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert codes(doc) == {"PD804"}
    finding = doc["findings"][0]
    assert "refuses global posix.system" in finding["title"]
    assert finding["evidence"]["global"] == "posix.system"
    assert not marker.exists()
    # and the file really runs the command when unpickled: the refusal is what saved us
    pickle.loads(evil.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_refusal_at_every_protocol(tmp_path, protocol):
    evil = tmp_path / "evil.pdopt"
    evil.write_bytes(pickle.dumps([RunsCommand("false")], protocol=protocol))
    facts = read_file(str(evil)).facts
    assert [p["kind"] for p in facts["problems"]] == ["refused"]
    assert facts["problems"][0]["global"] == "posix.system"


def test_eval_other_than_paddles_tensor_record_is_refused(tmp_path):
    evil = tmp_path / "evil.pdparams"
    evil.write_bytes(pickle.dumps({"w": Evaluates()}, protocol=4))
    facts = read_file(str(evil)).facts
    assert facts["problems"][0]["kind"] == "refused"
    assert "builtins.eval" in facts["problems"][0]["message"]
    assert "__import__" in facts["problems"][0]["message"]


@pytest.mark.parametrize("payload", [
    b"\x80\x02cbuiltins\nexec\nq\x00.",                     # GLOBAL outside the allowlist
    b"\x80\x04\x8c\x0asubprocess\x8c\x05Popen\x93.",          # STACK_GLOBAL
    b"(ios\nsystem\nS'true'\nt.",                            # INST (protocol 0)
    b"\x80\x02\x82\x01.",                                    # EXT1: the extension registry
    b"\x80\x02Pabc\n.",                                      # PERSID
])
def test_other_ways_to_name_code_are_refused(tmp_path, payload):
    evil = tmp_path / "evil.pdparams"
    evil.write_bytes(payload)
    before = set(sys.modules)
    facts = read_file(str(evil)).facts
    assert set(sys.modules) == before  # nothing imported
    assert [p["kind"] for p in facts["problems"]] == ["refused"]


def test_emulated_globals_never_import(tmp_path):
    # numpy's reconstruct is emulated: reading needs no numpy at all
    ck = real_checkpoints()
    code = ("import sys, builtins\n"
            "real = builtins.__import__\n"
            "def guard(name, *a, **k):\n"
            "    if name.split('.')[0] in ('numpy', 'paddle', 'pickle'):\n"
            "        raise ImportError('blocked ' + name)\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = guard\n"
            "from paddledoctor.inspect import inspect_facts\n"
            f"r = inspect_facts([{str(ck / 'dygraph_p2.pdparams')!r}, {str(ck / 'dtypes.pdparams')!r}], stats=True)\n"
            "assert all(not f['problems'] for f in r['files']), r\n"
            "assert r['files'][1]['tensors'][0]['inf'] == 1\n"
            "print('ok', sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'paddle', 'pickle')))\n")
    import subprocess
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok []"


def test_every_truncation_of_a_real_checkpoint_is_a_finding(tmp_path):
    ck = real_checkpoints()
    # a .pdiparams cut between two tensors is a valid stream: its program tells (PD808)
    (tmp_path / "infer_pir.json").write_bytes((ck / "infer_pir.json").read_bytes())
    for name in ("dygraph.pdparams", "dygraph_p2.pdparams", "infer_pir.pdiparams",
                 "model.safetensors"):
        data = (ck / name).read_bytes()
        step = max(1, len(data) // 60)
        for cut in range(0, len(data) - 1, step):
            path = tmp_path / name
            path.write_bytes(data[:cut])
            report = inspect([path])
            got = {f.code for f in report.findings}
            assert got & {"PD801", "PD805", "PD808", "PD833"}, (name, cut, got)
            assert report.exit_code() == 1


def test_empty_random_missing_and_directory_are_clear_findings(tmp_path):
    empty = tmp_path / "empty.pdparams"
    empty.write_bytes(b"")
    rand = tmp_path / "random.pdparams"
    rand.write_bytes(bytes(range(7, 250)) * 9)
    folder = tmp_path / "no_checkpoints_here"  # a folder is scanned as a training job's folder
    folder.mkdir()
    proc, doc = inspect_json(empty, rand, tmp_path / "missing.pdparams", folder)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and proc.stderr == ""
    titles = [f["title"] for f in doc["findings"]]
    assert any("empty" in t for t in titles)
    assert codes(doc) == {"PD801", "PD805", "PD806", "PD814"}
    assert any("no such file" in t for t in titles)
    assert any("holds no checkpoint" in t for t in titles)
    text = run_inspect(empty)
    assert text.returncode == 1 and "ERROR PD801" in text.stdout and "Traceback" not in text.stderr


HUGE = [
    ("binbytes8.pdparams", b"\x80\x04\x8e" + struct.pack("<Q", 1 << 62) + b"x" * 64),
    ("binunicode8.pdparams", b"\x80\x04\x8d" + struct.pack("<Q", 1 << 40) + b"x" * 64),
    ("long4.pdparams", b"\x80\x02\x8b" + struct.pack("<i", 1 << 30) + b"x" * 64),
    ("frame.pdparams", b"\x80\x04\x95" + struct.pack("<Q", 1 << 50) + b"x" * 64),
    ("header.safetensors", struct.pack("<Q", 1 << 60) + b'{"a":' + b" " * 64),
    ("dims.pdiparams", struct.pack("<IQIi", 0, 0, 0, 14) + bytes([0x08, 0x05, 0x10])
     + b"\xff\xff\xff\xff\xff\xff\xff\x0f" + b"\x10\x04" + b"\0" * 64),
    ("lod.pdiparams", struct.pack("<IQQ", 0, 1, 1 << 61) + b"\0" * 64),
]


@pytest.mark.parametrize("name,data", HUGE, ids=[h[0] for h in HUGE])
def test_huge_claims_are_checked_before_reading(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    tracemalloc.start()
    try:
        facts = read_file(str(path)).facts
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, peak
    assert facts["problems"], facts
    assert facts["problems"][0]["kind"] in ("truncated", "limit", "corrupt", "safetensors-refused")
    assert inspect([path]).exit_code() == 1


def test_self_referencing_and_deep_structures_do_not_crash(tmp_path):
    loop: list = []
    loop.append(loop)
    path = tmp_path / "loop.pdparams"
    path.write_bytes(pickle.dumps({"loop": loop, "w": [1.5]}, protocol=4))
    facts = read_file(str(path)).facts
    assert facts["problems"] == [] and facts["values"] == [{"name": "w/0", "type": "float", "value": 1.5}]
    # 200000 nested lists (pickle itself cannot write them: it recurses)
    n = 200_000
    path.write_bytes(b"\x80\x04" + b"]" * n + b"a" * (n - 1) + b".")
    facts = read_file(str(path)).facts
    assert [p["kind"] for p in facts["problems"]] == ["limit"]
    assert "deeper than 64" in facts["problems"][0]["message"]


def test_the_machine_reads_what_pickle_writes():
    value = {"a": [1, -2, 3.5, None, True, "é", b"xy", (1, 2), {"n": 2 ** 70}], "s": {1, 2},
             "f": frozenset({3}), "big": -(2 ** 100), "t": ()}
    for protocol in range(0, 6):
        data = pickle.dumps(value, protocol=protocol)
        result = safepickle.load(io.BytesIO(data), len(data))
        assert result.value == value, protocol
