"""Coverage-guided fuzzing of inspect's pickle reading, offline (issue #11); not part of CI.

    pip install atheris        # in a virtual environment; not a dependency of paddledoctor
    nice -n 15 python tools/fuzz_safepickle.py CORPUS_DIR -max_total_time=600 -max_len=4096

Each input is read by ``safepickle.scan`` (the walk of pickle.load) and ``safepickle.load`` (the
emulating machine) under a budget, and by CPython's C ``pickle.Unpickler`` on a file object with
``find_class`` answering stand-ins (the oracle of tests/inspect/pickle_oracle.py, both walks). A
crash is reported for:

- an exception of inspect's readers other than their own problems (a doctor bug);
- a global the real unpickler resolves that the scan neither allowlists nor refuses;
- a call of builtins.eval, reached any way, that is not Paddle's tensor record while the scan
  refused nothing.

The process's address space is capped (4 GiB), so a hostile input's allocation fails at once.
"""

from __future__ import annotations

import io
import os
import resource
import sys

import atheris

with atheris.instrument_imports():
    from paddledoctor.inspect import budget, safepickle

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "inspect"))
import pickle_oracle  # noqa: E402

EXPECTED = (safepickle.PickleProblem, budget.OverBudget, MemoryError, RecursionError)


def _real(data: bytes) -> tuple[list, list]:
    seen: list = []
    evals: list = []
    for unpickler in (lambda f: pickle_oracle.Recording(f, seen),
                      lambda f: pickle_oracle.WithRealContainers(f, seen, evals)):
        try:
            unpickler(io.BytesIO(data)).load()
        except Exception:  # noqa: BLE001 - any failure of pickle.load is its verdict
            pass
    return seen, evals


def test_one_input(data: bytes) -> None:
    cost = budget.Budget(time_s=5.0)
    try:
        walk = safepickle.scan(io.BytesIO(data), len(data), cost)
    except EXPECTED:
        return  # refused as over budget: nothing is judged
    refused = walk.refused is not None
    try:
        safepickle.load(io.BytesIO(data), len(data), budget=cost)
    except safepickle.Refused:
        refused = True
    except EXPECTED:
        pass
    if refused:
        return
    seen, evals = _real(data)
    for module, name in seen:
        try:
            safepickle.lookup(module, name, None, walk.protocol)
        except safepickle.Refused:
            raise AssertionError(f"pickle.load resolves {module}.{name}, the scan did not refuse it")
    if evals.count(False):
        raise AssertionError("pickle.load calls builtins.eval outside Paddle's record, the scan "
                             "did not refuse it")


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
    sys.setrecursionlimit(10_000)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
