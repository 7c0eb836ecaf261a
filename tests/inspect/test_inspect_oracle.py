"""The differential invariant of inspect (#11): what inspect says of a file holds for the way
paddle.load reads it, ``pickle.load`` on a file object. The oracle (pickle_oracle.py, a child
process) runs CPython's real C unpickler with find_class recording and an audit hook that blocks
code; any global it resolves that inspect neither allowlists nor refuses is a divergence, and a
file the real unpickler reads to its end must be judged as a pickle (or refused).

The corpus is synthesized here (``synth_*`` names): polyglots, frame divergences, protocols 0 and
1 without PROTO, memo and EXT tricks, abuse of every allowlisted global, and every opcode-boundary
truncation of a real paddle.save file; then a small derandomized hypothesis run."""

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
    if seen.get("foreign_evals"):
        return f"the real unpickler calls builtins.eval with any text, inspect says {sorted(kinds)}"
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


def synth_c_lines() -> dict[str, bytes]:
    """Protocol-0 numbers as the C unpickler parses them: a C string ends at its first NUL, INT is
    strtol(base 0), LONG base 0. Found by the offline fuzzer (tools/fuzz_safepickle.py): a PUT line
    "4\\0..." that Python's int() rejects is PUT 4 for pickle.load, which then runs what follows."""
    system = b"cos\nsystem\n(S'touch /tmp/x'\ntR."
    return {
        "synth_c_put_nul": b"(dp0\nVw\np4\x00\x00junk\n0" + system,
        "synth_c_get_nul": b"cos\nsystem\np1\n0g1\x00z\n(S'x'\ntR.",
        "synth_c_int_nul": b"(I1\x00zz\nt0" + system,
        "synth_c_int_hex": b"(I0x10\nt0" + system,
        "synth_c_int_octal": b"(I010\nt0" + system,
        "synth_c_long_hex": b"(L0x10L\nt0" + system,
        "synth_c_float_nul": b"(F1.5\x00x\nt0" + system,
    }


def _t(text: str) -> bytes:
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data if len(data) < 256 else \
        b"\x8d" + struct.pack("<Q", len(data)) + data


def _g(module: str, name: str) -> bytes:
    return _t(module) + _t(name) + b"\x93"


def synth_allowlist_abuse() -> dict[str, bytes]:
    """Every allowlisted global called with arguments meant to cost or harm, each alone and with
    a refused call after it (``_then_system``). The ``trick_`` ones run code under pickle.load
    with allowlisted globals only: an OrderedDict takes instance attributes, and the unpickler's
    BUILD/APPEND/APPENDS/ADDITEMS look ``__setstate__``/``append``/``extend``/``add`` up on the
    instance, so ``eval`` stored there is called with any text."""
    od = _g("collections", "OrderedDict") + b")R"
    ev = _g("builtins", "eval")
    code = _t("__import__('os').system('echo pwned')")
    arr = _g("numpy.core.multiarray", "_reconstruct") + _g("numpy", "ndarray") + \
        b"K\x00\x85C\x01b\x87R"
    f4 = _g("numpy", "dtype") + _t("f4") + b"\x89\x88\x87R(K\x03\x8c\x01<NNNJ\xff\xff\xff\xffJ" \
        b"\xff\xff\xff\xffK\x00tb"
    huge = b"\x8a\x08" + struct.pack("<q", 2 ** 62)
    calls = {
        "trick_setstate_eval": od + b"}" + _t("__setstate__") + ev + b"sb" + code + b"b",
        "trick_append_eval": od + b"}" + _t("append") + ev + b"sb" + code + b"a",
        "trick_extend_eval": od + b"}" + _t("extend") + ev + b"sb(" + code + b"e",
        "trick_add_eval": od + b"}" + _t("add") + ev + b"sb(" + code + b"\x90",
        "trick_slotstate_eval": od + b"N}" + _t("__setstate__") + ev + b"s\x86b" + code + b"b",
        "trick_memo_eval": ev + b"\x940}" + _t("x") + b"h\x00s",
        "trick_eval_in_args": _g("builtins", "tuple") + ev + b"\x85\x85R",
        "od_not_pairs": _g("collections", "OrderedDict") + b"]K\x01K\x02K\x03\x87a\x85R",
        "od_newobj_kwargs": _g("collections", "OrderedDict") + b")}" + _t("a") + b"K\x01s\x92",
        "od_build_list": od + b"]K\x01ab",
        "reconstruct_huge_shape": arr + b"(K\x01" + huge + huge + b"\x86" + f4 + b"\x89C\x00tb",
        "reconstruct_other_class": _g("numpy.core.multiarray", "_reconstruct") + od[:-2] +
                                   b"K\x00\x85C\x01b\x87R",
        "dtype_long_code": _g("numpy", "dtype") + _t("f4" * 200) + b"\x85R",
        "dtype_itemsize_huge": f4[:-1] + b"0" + _g("numpy", "dtype") + _t("V8") + b"\x85R(K\x03"
                               b"\x8c\x01|NNNJ\xff\xff\xff\x7fK\x01K\x00tb",
        "object_array_of_system": arr + b"(K\x01K\x01\x85" + _g("numpy", "dtype") + _t("O8") +
                                  b"\x85R]" + _g("posix", "system") + b"a\x89tb",
        "scalar_wrong_size": _g("numpy.core.multiarray", "scalar") + f4 + _t("x" * 300) + b"\x86R",
        "codecs_rot13": _g("_codecs", "encode") + _t("payload") + _t("rot13") + b"\x86R",
        "codecs_big_text": _g("_codecs", "encode") + _t("x" * 100_000) + _t("latin1") + b"\x86R",
        "bytes_huge_count": _g("builtins", "bytes") + huge + b"\x85R",
        "bytearray_of_list": _g("builtins", "bytearray") + b"]K\x01a\x85R",
        "set_shared_tuples": _g("builtins", "set") + b"])\x94" + b"0h\x00h\x00\x86\x94" +
                             b"".join(b"0h" + bytes([i]) + b"h" + bytes([i]) + b"\x86\x94"
                                      for i in range(1, 20)) + b"a\x85R",
        "dict_from_non_pairs": _g("builtins", "dict") + b"]K\x01a\x85R",
        "frozenset_of_lists": _g("builtins", "frozenset") + b"]]a\x85R",
        "list_of_laughs": _g("builtins", "list") + b"]" + b"\x94(h\x00h\x00h\x00e" * 3 + b"\x85R",
        "eval_other_text": ev + _t("data") + b"}" + _t("data") + b"K\x01s" + _t("__builtins__") +
                           b"}s\x86R",
        "generator_state_odd": _g("paddle.base.libpaddle", "GeneratorState") + b")\x81" +
                               b"}" + _t("__setstate__") + ev + b"sb",
    }
    tail = _g("posix", "system") + _t("echo pwned") + b"\x85R"
    files = {}
    for name, call in calls.items():
        files[f"synth_abuse_{name}"] = b"\x80\x04](" + call + b"e."
        files[f"synth_abuse_{name}_then_system"] = b"\x80\x04](" + call + tail + b"e."
    return files


def _truncations(data: bytes) -> list[int]:
    return sorted({pos for _, _, pos in pickletools.genops(data) if pos} | {len(data) - 1})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("oracle")
    files = {"synth_polyglot.safetensors": synth_polyglot()}
    for group in (synth_frames(), synth_protocols(), synth_memo_ext(), synth_allowlist_abuse(),
                  synth_c_lines()):
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


def test_a_number_line_is_read_as_the_c_unpickler_reads_it(tmp_path):
    """Each file runs os.system under pickle.load (the oracle resolves it) and inspect refuses it:
    before, a NUL in a PUT line stopped inspect's walk with 'corrupt' where pickle.load went on."""
    paths = []
    for name, data in synth_c_lines().items():
        (tmp_path / f"{name}.pdparams").write_bytes(data)
        paths.append(tmp_path / f"{name}.pdparams")
    seen = run_oracle(paths)
    for path in paths:
        assert ["os", "system"] in seen[str(path)]["globals"], path.name
        assert divergence(path, seen[str(path)]) is None, path.name


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


def test_eval_stored_in_an_ordereddict_runs_code_and_is_refused(tmp_path):
    """The attack is real: allowlisted globals only, and pickle.load runs the command (an
    OrderedDict's instance __setstate__ is eval). inspect refuses it (PD804), the oracle sees it."""
    marker = tmp_path / "pwned"
    code = f"__import__('os').system('touch {marker}')"
    trick = synth_allowlist_abuse()["synth_abuse_trick_setstate_eval"].replace(
        _t("__import__('os').system('echo pwned')"), _t(code))
    path = tmp_path / "synth_trick.pdparams"
    path.write_bytes(trick)
    facts = read_file(str(path)).facts
    assert [p["kind"] for p in facts["problems"]] == ["refused"]
    assert facts["problems"][0]["global"] == "builtins.eval"
    assert not marker.exists()
    assert run_oracle([path])[str(path)]["foreign_evals"] == 1
    subprocess.run([sys.executable, "-c", "import pickle, sys; pickle.load(open(sys.argv[1], 'rb'))",
                    str(path)], check=True, timeout=60)
    assert marker.exists()


def test_no_divergence_over_the_hostile_corpus(corpus):
    check_all(corpus)


@settings(max_examples=150, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(sorted({*synth_frames().values(), *synth_protocols().values(),
                                         *synth_memo_ext().values(),
                                         *synth_allowlist_abuse().values()})),
                min_size=1, max_size=3),
       st.binary(max_size=12), st.integers(0, 40))
def test_no_divergence_over_fuzzed_splices(tmp_path_factory, parts, noise, cut):
    """Splices of hostile pickles, noise and a cut: the C unpickler and inspect must agree."""
    data = b"".join(parts)
    data = data[:cut] + noise + data[cut:]
    path = tmp_path_factory.mktemp("fuzz") / "synth_fuzz.pdparams"
    path.write_bytes(data)
    check_all([path])
