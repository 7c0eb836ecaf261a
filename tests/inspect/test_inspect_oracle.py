"""The differential invariant of inspect (#11): what inspect says of a file holds for the way
paddle.load reads it, ``pickle.load`` on a file object. The oracle (pickle_oracle.py, a child
process) runs CPython's real C unpickler with find_class recording and an audit hook that blocks
code; any global it resolves that inspect neither allowlists nor refuses is a divergence, and a
file the real unpickler reads to its end must be judged as a pickle (or refused).

The corpus is synthesized here (``synth_*`` names): polyglots, frame divergences, protocols 0 and
1 without PROTO, memo and EXT tricks, and every opcode-boundary truncation of a real paddle.save
file; then a small derandomized hypothesis run."""

from __future__ import annotations

import json
import pickle
import pickletools
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paddledoctor.inspect import safepickle
from paddledoctor.inspect.reader import read_file

from inspect_support import real_checkpoints

ORACLE = Path(__file__).with_name("pickle_oracle.py")
STOPPED = {"refused", "over-budget", "polyglot"}


def run_oracle(paths: list[Path]) -> dict[str, dict]:
    out = subprocess.run([sys.executable, str(ORACLE), *map(str, paths)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return {d["path"]: d for d in map(json.loads, out.stdout.splitlines())}


def _allowlisted(module: str, name: str, protocol: int) -> bool:
    try:
        safepickle.lookup(module, name, None, protocol)
        return True
    except safepickle.Refused:
        return False


def divergence(path: Path, seen: dict) -> str | None:
    """Why inspect's verdict on ``path`` does not hold for the real unpickler, or None."""
    facts = read_file(str(path)).facts
    kinds = {p["kind"] for p in facts["problems"]}
    if kinds & STOPPED:
        return None
    protocol = (facts.get("pickle") or {}).get("protocol", 0)
    for module, name in seen["globals"]:
        if not _allowlisted(module, name, protocol):
            return f"the real unpickler resolves {module}.{name}, inspect says {sorted(kinds)}"
    if seen["outcome"] == "completed" and facts["format"] != "pickle":
        return f"pickle.load reads it to its end, inspect calls it {facts['format']}"
    return None


def check_all(paths: list[Path]) -> None:
    seen = run_oracle(paths)
    bad = {p.name: why for p in paths if (why := divergence(p, seen[str(p)]))}
    assert not bad, bad


# --- the corpus --------------------------------------------------------------------------------

def synth_polyglot() -> bytes:
    """A safetensors file whose first byte is SHORT_BINBYTES: the pickle's text runs over the
    header length and into the JSON, where "0N." (POP, NONE, STOP) ends it."""
    length_byte = 40                        # SHORT_BINBYTES of 40 bytes: offsets 2..41
    n = ord("C") + 256 * length_byte        # the header length those two bytes spell
    head = '{"__metadata__":{"p":"'
    pad = "x" * (length_byte + 2 - 8 - len(head))
    body = head + pad + '0N.","q":"r"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    header = body.encode().ljust(n, b" ")
    data = bytes([ord("C"), length_byte]) + b"\0" * 6 + header + b"\0\0\x80\x3f"
    assert struct.unpack_from("<Q", data)[0] == n
    return data


def _frame(payload: bytes, claim: int) -> bytes:
    return b"\x80\x04\x95" + struct.pack("<Q", claim) + payload


def synth_frames() -> dict[str, bytes]:
    glob = b"\x8c\x02os\x94\x8c\x06system\x94\x93\x8c\x04echo\x85R."
    return {
        # an argument runs past the frame's end: the C unpickler reads on from the file
        "synth_frame_arg_past_end": _frame(glob, 2),
        "synth_frame_short_then_global": _frame(b"\x8c\x08os\nxxxxx", 3) + b"0" + glob[0:] ,
        "synth_frame_claims_more": _frame(glob, len(glob) + 50) + b"\0" * 50,
        "synth_frame_in_frame": _frame(b"\x95" + struct.pack("<Q", len(glob)) + glob, 9),
        "synth_frame_zero": _frame(b"", 0) + glob,
    }


def synth_protocols() -> dict[str, bytes]:
    return {
        "synth_p0_global": b"cos\nsystem\n(S'echo hi'\ntR.",
        "synth_p0_inst": b"(S'echo hi'\nios\nsystem\n.",
        "synth_p0_dict": pickle.dumps({"a": [1, 2.5, "x"]}, protocol=0),
        "synth_p1_global": b"cposix\nsystem\n(U\x07echo hitR.",
        "synth_p1_list": pickle.dumps([1, (2, 3), b"x"], protocol=1),
        "synth_p2_compat": b"\x80\x02c__builtin__\neval\nX\x01\x00\x00\x001\x85R.",
        "synth_p1_builtin_getattr": b"c__builtin__\ngetattr\n(cos\nenviron\nU\x03gettR.",
    }


def synth_memo_ext() -> dict[str, bytes]:
    s = b"\x8c\x02os\x94\x8c\x06system\x94"
    return {
        "synth_memo_names": b"\x80\x04" + s + b"h\x00h\x01\x93\x8c\x02id\x85R.",
        "synth_memo_long": b"\x80\x04\x8c\x02osr\x07\x00\x00\x00\x8c\x06systemj\x07\x00\x00\x00"
                           b"\x93\x8c\x02id\x85R.",
        "synth_memo_overwrite": b"\x80\x04\x8c\x0bcollections\x94\x8c\x02os\x94\x8c\x06system"
                                b"\x94h\x01h\x02\x93.",
        "synth_ext1": b"\x80\x02\x82\x01)R.",
        "synth_ext4": b"\x80\x02\x84\x00\x00\x01\x00)R.",
        "synth_persid": b"\x80\x02Q.",
        "synth_inst_p0_memo": b"(cos\nsystem\np0\n0g0\n(S'x'\ntR.",
        "synth_obj": b"\x80\x02(cos\nsystem\nS'x'\no.",
        "synth_newobj_ex": b"\x80\x04\x8c\x02os\x8c\x06system\x93)}\x92.",
    }


def _truncations(data: bytes) -> list[int]:
    return sorted({pos for _, _, pos in pickletools.genops(data) if pos} | {len(data) - 1})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("oracle")
    files = {"synth_polyglot.safetensors": synth_polyglot()}
    for group in (synth_frames(), synth_protocols(), synth_memo_ext()):
        files.update({f"{k}.pdparams": v for k, v in group.items()})
    real = real_checkpoints() / "dygraph.pdparams"
    data = real.read_bytes()
    files.update({f"synth_cut_{cut}.pdparams": data[:cut] for cut in _truncations(data)})
    paths = []
    for name, data in files.items():
        (root / name).write_bytes(data)
        paths.append(root / name)
    return paths


def test_the_oracle_sees_a_global_inspect_must_refuse(tmp_path):
    """The comparator can fail: a global the real unpickler resolves, shown with a verdict that
    did not refuse it, is a divergence."""
    path = tmp_path / "synth_p0_global.pdparams"
    path.write_bytes(synth_protocols()["synth_p0_global"])
    seen = run_oracle([path])[str(path)]
    assert seen["globals"] == [["os", "system"]]
    assert divergence(path, seen) is None
    path.write_bytes(b"\x80\x02K\x01.")
    assert divergence(path, seen) is not None


def test_the_polyglot_is_refused_and_named(tmp_path):
    path = tmp_path / "synth_polyglot.safetensors"
    path.write_bytes(synth_polyglot())
    assert run_oracle([path])[str(path)]["outcome"] == "completed"
    facts = read_file(str(path)).facts
    assert [p["kind"] for p in facts["problems"]] == ["polyglot"], facts["problems"]


def test_protocols_0_and_1_without_proto_are_pickles(tmp_path):
    for name in ("synth_p0_dict", "synth_p1_list"):
        path = tmp_path / f"{name}.pdparams"
        path.write_bytes(synth_protocols()[name])
        assert read_file(str(path)).facts["format"] == "pickle", name


def test_no_divergence_over_the_hostile_corpus(corpus):
    check_all(corpus)


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(sorted({*synth_frames().values(), *synth_protocols().values(),
                                         *synth_memo_ext().values()})), min_size=1, max_size=3),
       st.binary(max_size=12), st.integers(0, 40))
def test_no_divergence_over_fuzzed_splices(tmp_path_factory, parts, noise, cut):
    """Splices of hostile pickles, noise and a cut: the C unpickler and inspect must agree."""
    data = b"".join(parts)
    data = data[:cut] + noise + data[cut:]
    path = tmp_path_factory.mktemp("fuzz") / "synth_fuzz.pdparams"
    path.write_bytes(data)
    check_all([path])
