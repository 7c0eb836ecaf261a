"""Fuzzing: real checkpoints written by paddle 3.3.1, mutated (truncated, bytes flipped, opcodes
inserted, ranges deleted or repeated), read by inspect. Nothing escapes, nothing is imported,
memory stays bounded, and a global outside the allowlist is only ever refused. Derandomized and
bounded (max_examples), so CI runs the same examples each time; crashing inputs found while
fuzzing with more examples are kept in tests/fixtures/inspect/ and replayed here."""

from __future__ import annotations

import os
import sys
import tempfile
import tracemalloc

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspect_support import FIXTURES, real_checkpoints

from paddledoctor.inspect.reader import read_file
from paddledoctor.inspect import stats
from paddledoctor.inspect.safepickle import ALLOWLIST

stats._numpy()  # the optional speed-up, imported once here: the readings themselves import nothing

BASES = ["dygraph.pdparams", "dygraph_p2.pdparams", "dygraph.pdopt", "densetensor.pdparams",
         "nested.pdparams", "rng.pdstate", "infer_pir.pdiparams", "model.safetensors",
         "infer_legacy.pdmodel"]
ALLOWED = {f"{m}.{n}" for m, n in ALLOWLIST}
INSERTS = [b"cos\nsystem\n", b"\x8c\x02os\x8c\x06system\x93", b"R", b"b", b"\x81", b"(", b"t",
           b"e", b"u", b"s", b"a", b"0", b"1", b"2", b".", b"\x94", b"h\x00", b"h\xff",
           b"j\xff\xff\xff\x7f", b"\x8e\xff\xff\xff\xff\xff\xff\xff\x7f", b"X\xff\xff\xff\x7f",
           b"\x8b\xff\xff\xff\x7f", b"\x95\xff\xff\xff\xff\x00\x00\x00\x00", b"\x82\x01",
           b"Q", b"\x92", b"\x97", b"cbuiltins\neval\n", b"\x85", b"}", b"]", b")", b"N"]
MAX_PEAK = 32 << 20
FUZZ_EXAMPLES = int(os.environ.get("PADDLEDOCTOR_FUZZ_EXAMPLES", "600"))

_bases: dict[str, bytes] = {}


def base(name: str) -> bytes:
    if name not in _bases:
        _bases[name] = (real_checkpoints() / name).read_bytes()
    return _bases[name]


mutation = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from(INSERTS)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 64)),
    st.tuples(st.just("repeat"), st.floats(0, 1), st.integers(1, 64)),
)


def mutate(data: bytes, mutations) -> bytes:
    out = bytearray(data)
    for m in mutations:
        at = int(m[1] * len(out))
        if m[0] == "truncate":
            del out[at:]
        elif m[0] == "flip" and out:
            out[min(at, len(out) - 1)] = m[2]
        elif m[0] == "insert":
            out[at:at] = m[2]
        elif m[0] == "delete":
            del out[at:at + m[2]]
        elif m[0] == "repeat":
            out[at:at] = out[at:at + m[2]]
    return bytes(out)


def check_reading(data: bytes, suffix: str) -> dict:
    with tempfile.NamedTemporaryFile(suffix=suffix, delete=False) as fh:
        fh.write(data)
    try:
        before = set(sys.modules)
        tracemalloc.start()
        try:
            facts = read_file(fh.name, with_stats=True).facts
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert set(sys.modules) == before, set(sys.modules) - before
    finally:
        os.unlink(fh.name)
    assert peak < MAX_PEAK, peak
    internal = [p for p in facts["problems"] if p.get("internal")]
    assert not internal, internal
    for p in facts["problems"]:
        if p["kind"] == "refused":
            # outside the allowlist, or eval with anything but Paddle's tensor record
            assert p["global"] not in ALLOWED or p["global"] == "builtins.eval", p
    assert set((facts.get("pickle") or {}).get("globals", [])) <= ALLOWED
    return facts


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(BASES), mutations=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_real_checkpoints(name, mutations):
    check_reading(mutate(base(name), mutations), os.path.splitext(name)[1])


def test_inserted_os_system_is_refused_wherever_reached():
    data = base("dygraph.pdparams")
    # right after PROTO+FRAME headers: the first thing the machine reads
    evil = data[:11] + b"\x8c\x02os\x8c\x06system\x93" + data[11:]
    facts = check_reading(evil, ".pdparams")
    assert facts["problems"][0]["kind"] == "refused"
    assert facts["problems"][0]["global"] == "os.system"


REGRESSIONS = sorted(FIXTURES.glob("crash-*")) if FIXTURES.is_dir() else []


def test_crashes_found_by_fuzzing_stay_fixed():
    """crash-lazy-codec-import: a UNICODE opcode made the reader import
    encodings.raw_unicode_escape; crash-eval-record-mutated: a damaged DenseTensor record, whose
    eval must be refused by name, never run."""
    assert {p.name for p in REGRESSIONS} >= {"crash-lazy-codec-import.pdparams",
                                             "crash-eval-record-mutated.pdparams"}
    for path in REGRESSIONS:
        facts = check_reading(path.read_bytes(), "." + path.name.rsplit(".", 1)[-1])
        assert facts["problems"], path.name
        assert facts["problems"][0]["kind"] in ("corrupt", "refused", "truncated"), path.name
