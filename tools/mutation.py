"""Mutation testing with cosmic-ray, one group of modules at a time, each against its fast tests.

cosmic-ray (not mutmut) because it applies each mutant to the file ON DISK and runs an ordinary
command: the doctor's tests start the doctor in children (``python -m paddledoctor``, the probes'
children, fleet's ranks), and a mutant applied on disk is what those children import too; mutmut 3
switches mutants through a trampoline inside a copied tree (``mutants/``), which children started
from the real tree would not run. cosmic-ray keeps its work in a SQLite session, so a run can stop
and go on, and a seeded sample is a filter on that session.

Because the files are changed in place, run it in a checkout of its own (never in one you edit or
test in at the same time)::

    git worktree add --detach /tmp/mut HEAD && cd /tmp/mut
    /path/to/venv/bin/python tools/mutation.py list
    nice -n 10 python tools/mutation.py run redaction              # every mutant of the group
    nice -n 10 python tools/mutation.py run checks --sample 150 --seed 12
    nice -n 10 python tools/mutation.py run checks --survivors     # after new tests: survivors again
    python tools/mutation.py report checks                          # score, survivors with diffs

``run`` writes ``.mutation/GROUP.toml`` and ``.mutation/GROUP.sqlite`` (an existing session goes
on where it stopped; ``--fresh`` starts again), and PYTHONPATH is set to this checkout so that the
tests and every child import the mutated package. The score is killed / (killed + survived);
a timeout counts as killed (cosmic-ray's rule), a mutant that could not be applied or run as
incompetent, and a survivor inside an annotation of a file with ``from __future__ import
annotations`` as equivalent (nothing evaluates it): both out of the score, and counted.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
PYTEST = f"{sys.executable} -m pytest -x -q -p no:randomly -p no:cacheprovider --no-header"

# group -> (files or folders mutated, the fast tests that judge them, seconds per mutant at most);
# FUNCTIONS narrows a group to some functions of its files. The tests are ordered fastest first
# (pytest -x stops at the first failure, so a killed mutant costs the time to its first failing
# test); each command takes about a minute on two shared cores, the slow subprocess tests last.
# Left to the whole suite for time: checks' tests/checks/test_from_modes.py (26 s, doctor.py's
# document modes: the curated mutant from-ignores-the-mode) and tests/stack/test_options.py (18 s).
GROUPS = {
    "checks": (["paddledoctor/checks"],
               ["tests/checks/test_gpu_truth.py", "tests/checks/test_portable_judging.py",
                "tests/checks/test_knowledge.py", "tests/checks/test_model.py",
                "tests/checks/test_from_fixtures.py", "tests/checks/test_check_units.py",
                "tests/binaries/test_archs_checks.py", "tests/bench/test_bench_checks.py",
                "tests/fleet/test_fleet_checks.py", "tests/inspect/test_inspect_checks.py",
                "tests/inspect/test_inspect_folders.py",
                "tests/stack/test_environment.py", "tests/stack/test_stack_real.py",
                "tests/probes/test_driver_library.py", "tests/checks/test_check_wrong_cases.py",
                "tests/paste"],
               300),
    "knowledge": (["paddledoctor/knowledge"],
                  ["tests/checks/test_knowledge.py", "tests/checks/test_gpu_truth.py",
                   "tests/explain/test_explain_patterns.py", "tests/explain/test_context_rules.py",
                   "tests/explain/test_ticket_corpus.py", "tests/test_archs.py",
                   "tests/stack/test_stack_real.py", "tests/checks/test_from_fixtures.py"],
                  240),
    "redaction": (["paddledoctor/redaction.py"],
                  ["tests/report/test_redaction_units.py", "tests/report/test_redaction_wrong_cases.py",
                   "tests/report/test_report_redaction.py", "tests/report/test_redaction_plants.py"],
                  240),
    # test_emulated_globals_never_import (50 s of the 75) is left to the whole suite
    "safepickle": (["paddledoctor/inspect/safepickle.py"],
                   ["tests/inspect/test_inspect_wrong_cases.py", "tests/inspect/test_inspect_real.py",
                    "tests/inspect/test_inspect_bad.py",
                    "--deselect tests/inspect/test_inspect_bad.py::test_emulated_globals_never_import"],
                   300),
    # the children's comparators: the bench's bit comparison, the fleet's all-reduce judgement
    "comparators": (["paddledoctor/bench/children/bench_paddle.py",
                     "paddledoctor/fleet/children/fleet_collective.py"],
                    ["tests/bench/test_bench_wrong_cases.py", "tests/fleet/test_fleet_wrong_cases.py"],
                    300),
}


FUNCTIONS = {
    "comparators": {"paddledoctor/bench/children/bench_paddle.py": ("same_bits", "compare_dicts"),
                    "paddledoctor/fleet/children/fleet_collective.py": ("all_reduce_known",)},
}


def config_text(group: str) -> str:
    paths, tests, timeout = GROUPS[group]
    modules = ", ".join(f'"{p}"' for p in paths)
    return (f'[cosmic-ray]\nmodule-path = [{modules}]\ntimeout = {float(timeout)}\n'
            f'excluded-modules = []\ntest-command = "{PYTEST} {" ".join(tests)}"\n\n'
            f'[cosmic-ray.distributor]\nname = "local"\n')


def _lines(path: str, names) -> "set[int]":
    """The lines of these functions in a file."""
    import ast
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {n for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name in names
            for n in range(node.lineno, node.end_lineno + 1)}


def narrow(session: Path, functions: dict) -> int:
    """Mark skipped the mutants outside these functions; the number kept."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    lines = {path: _lines(path, names) for path, names in functions.items()}
    with use_db(session, WorkDB.Mode.open) as db:
        out = [item.job_id for item in db.pending_work_items
               if item.mutations[0].start_pos[0] not in lines.get(
                   Path(item.mutations[0].module_path).as_posix(), set())]
        db.set_multiple_results(out, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
        return db.num_work_items - len(out)


def sample(session: Path, size: int, seed: int) -> int:
    """Keep a seeded random sample of the pending mutants; mark the others skipped."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(session, WorkDB.Mode.open) as db:
        pending = sorted(item.job_id for item in db.pending_work_items)
        done = sum(1 for _, r in db.completed_work_items if r.worker_outcome != "skipped")
        keep = set(random.Random(seed).sample(pending, min(size - done, len(pending)))) if size > done else set()
        db.set_multiple_results([job for job in pending if job not in keep],
                                WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
        return len(keep)


def results(session: Path):
    from cosmic_ray.work_db import WorkDB, use_db
    with use_db(session, WorkDB.Mode.open) as db:
        return [(item, result) for item, result in db.completed_work_items]


def outcome(result) -> str:
    if result.worker_outcome == "skipped":
        return "skipped"
    if result.worker_outcome != "normal" or result.test_outcome is None:
        return "incompetent"
    return result.test_outcome.value  # not str(): an Enum's str() is 'TestOutcome.KILLED' on 3.11+


def _annotation_spans(path: str) -> "list[tuple]":
    """The (start, end) positions of a file's annotations, when ``from __future__ import
    annotations`` makes them strings that nothing evaluates: a mutant there is equivalent."""
    import ast
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    if not any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
               and any(a.name == "annotations" for a in n.names) for n in tree.body):
        return []
    spans = []
    for node in ast.walk(tree):
        notes = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            notes.append(node.returns)
        elif isinstance(node, ast.arg):
            notes.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
        spans += [((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset)) for n in notes if n]
    return spans


def equivalent(item, spans: dict) -> bool:
    """A mutant inside an annotation that is never evaluated changes nothing."""
    m = item.mutations[0]
    path = Path(m.module_path).as_posix()
    if path not in spans:
        spans[path] = _annotation_spans(path) if (ROOT / path).exists() else []
    pos = tuple(m.start_pos)
    return any(a <= pos < b for a, b in spans[path])


def report(group: str, show: bool = True) -> int:
    session = WORK / f"{group}.sqlite"
    done = results(session)
    per_file: dict = {}
    survivors = []
    spans: dict = {}
    for item, result in done:
        kind = outcome(result)
        if kind == "skipped":
            continue
        if kind == "survived" and equivalent(item, spans):
            kind = "equivalent"
        path = str(item.mutations[0].module_path)
        per_file.setdefault(path, Counter())[kind] += 1
        if kind == "survived":
            survivors.append((item, result))
    total = sum(per_file.values(), Counter())
    judged = total["killed"] + total["survived"]
    sampled = any(outcome(r) == "skipped" for _, r in done)
    print(f"{group}: {total['killed']}/{judged} killed ({100 * total['killed'] / max(judged, 1):.1f}%), "
          f"{total['survived']} survived, {total['incompetent']} incompetent, "
          f"{total['equivalent']} equivalent (in an annotation, never evaluated)"
          + (f" (a sample of {judged + total['incompetent'] + total['equivalent']} of {len(done)} "
             "mutants)" if sampled else ""))
    for path, c in sorted(per_file.items()):
        j = c["killed"] + c["survived"]
        print(f"  {path}: {c['killed']}/{j} killed" + (f", {c['incompetent']} incompetent" if c["incompetent"] else ""))
    if show:
        for item, result in survivors:
            m = item.mutations[0]
            print(f"\nSURVIVED {item.job_id} {m.module_path}:{m.start_pos[0]} {m.operator_name}")
            print((result.diff or "").strip())
    return 0


def again(session: Path) -> int:
    """Forget the survivors' results, so that ``run`` tries them again (after new tests)."""
    from cosmic_ray.work_db import WorkDB, WorkResultStorage, use_db
    from cosmic_ray.work_item import TestOutcome

    with use_db(session, WorkDB.Mode.open) as db:
        with db._session_maker.begin() as s:  # cosmic-ray has no public call for this
            return (s.query(WorkResultStorage)
                    .filter(WorkResultStorage.test_outcome == TestOutcome.SURVIVED).delete())


def baseline(group: str, env: dict) -> None:
    """The group's tests must pass on the unmutated tree, or every mutant would count as killed."""
    _, tests, _ = GROUPS[group]
    proc = subprocess.run(f"{PYTEST} {' '.join(tests)}", shell=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"{group}: the tests fail without a mutant (exit {proc.returncode}); fix them first")


def run(group: str, size: "int | None", seed: int, fresh: bool, survivors: bool = False) -> int:
    WORK.mkdir(exist_ok=True)
    config, session = WORK / f"{group}.toml", WORK / f"{group}.sqlite"
    config.write_text(config_text(group), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    os.environ.update(env)
    baseline(group, env)
    if survivors and session.exists() and not fresh:
        print(f"{group}: {again(session)} survivors to try again", flush=True)
    if fresh or not session.exists():
        session.unlink(missing_ok=True)
        subprocess.run(["cosmic-ray", "init", str(config), str(session)], check=True, env=env, cwd=ROOT)
        if group in FUNCTIONS:
            print(f"{group}: {narrow(session, FUNCTIONS[group])} mutants in "
                  f"{', '.join(n for names in FUNCTIONS[group].values() for n in names)}", flush=True)
        if size is not None:
            print(f"{group}: sampled {sample(session, size, seed)} mutants (seed {seed})", flush=True)
    subprocess.run(["cosmic-ray", "exec", str(config), str(session)], check=True, env=env, cwd=ROOT)
    return report(group)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the groups, their files and tests")
    r = sub.add_parser("run", help="mutate a group and run its tests on each mutant")
    r.add_argument("group", choices=sorted(GROUPS))
    r.add_argument("--sample", type=int, help="a seeded random sample of this many mutants")
    r.add_argument("--seed", type=int, default=12)
    r.add_argument("--fresh", action="store_true", help="start the session again")
    r.add_argument("--survivors", action="store_true",
                   help="try the survivors of the session again (after adding tests)")
    p = sub.add_parser("report", help="the score of a session, per file, and its survivors")
    p.add_argument("group", choices=sorted(GROUPS))
    p.add_argument("--quiet", action="store_true", help="scores only")
    args = ap.parse_args(argv)
    if args.command == "list":
        for name, (paths, tests, timeout) in GROUPS.items():
            print(f"{name}: {' '.join(paths)}\n  tests: {' '.join(tests)} (at most {timeout} s a mutant)")
        return 0
    if args.command == "report":
        return report(args.group, show=not args.quiet)
    return run(args.group, args.sample, args.seed, args.fresh, args.survivors)


if __name__ == "__main__":
    sys.exit(main())
