"""Which finding codes the suite produces from real input, and is every code in the table among them?

A pytest plugin (registered by tests/conftest.py; nothing of it is in paddledoctor/). It records, for
the whole session, each code that a report or an explanation gave, with where its input came from:

- in process, every :func:`paddledoctor.doctor.diagnose` (the product's one door to the checks:
  check, check --from, bench, inspect, fleet and explain's pasted text all pass through it), every
  :func:`paddledoctor.checks.run` a test calls itself, and every
  :func:`paddledoctor.knowledge.errors.scan` (explain's patterns on a log);
- out of process, what a ``python -m paddledoctor ...`` started with :func:`subprocess.run` printed:
  its JSON (check, bench, inspect, fleet, report --format json, explain) or the finding lines of its
  terminal output (``ERROR PD201 ...``), and under ``paddle.distributed.launch`` the same in every
  rank's ``workerlog.N``.

A run counts as **real input** when its facts were gathered by the doctor's own probes (on the
simulated machine of tests/fakes: stand-in NVML, fake paddle builds, faults at Paddle's boundary,
synthesized trees under PADDLEDOCTOR_FS_ROOT, all read by the real probes), read from text (a log, a
pasted environment), read from checkpoint files, or loaded from a document a real run wrote (a
fixture under tests/fixtures/regression/ or real/, or a document this session emitted). Facts a
test puts together count when every part of them is what a probe function returned (the test
called ``environment.probe(root=tree)`` itself). It does **not** count when a test handed the
checks facts it wrote itself: ``diagnose`` or ``checks.run`` called from a test on its own dict (or
on a probe's output with a part of its own added), a probe function replaced by monkeypatch, ``--from`` a tests/fixtures/synthesized/
report or another document a test wrote.

At the end of a session that ran the whole suite (no -k, -m, deselection, --lf or early stop), every
code of the table must have been produced from real input, or be named in
tests/codes_on_hand_made_facts.txt with the reason it stays on hand-made facts; a code in both is a
stale entry. Either fails the session and lists the codes. A partial run only records (the last
record is kept in pytest's cache under ``paddledoctor/codes_seen``, for ``--codes-seen``).

Every report document emitted (``Report.to_json`` in process, a report's JSON on a doctor's stdout)
is also validated against docs/report.schema.json; an invalid one fails the test that emitted it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
PACKAGE = ROOT / "paddledoctor"
ALLOWLIST = TESTS / "codes_on_hand_made_facts.txt"
SCHEMA = ROOT / "docs" / "report.schema.json"
# Documents recorded from real runs (by a released doctor, or by hand on a real machine).
REAL_DOCUMENTS = (TESTS / "fixtures" / "regression", TESTS / "fixtures" / "real")
SYNTHESIZED = TESTS / "fixtures" / "synthesized"
CACHE_KEY = "paddledoctor/codes_seen"

REAL = "real"
HAND_MADE = "hand-made"


# --- the judgement (pure) ------------------------------------------------------------------------

def read_allowlist(path: Path = ALLOWLIST) -> dict[str, str]:
    """``PDnnn: reason`` lines (``#`` comments and blank lines aside) as {code: reason}."""
    entries: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        code, sep, reason = line.partition(":")
        if not sep or not reason.strip():
            raise ValueError(f"{path.name}:{number}: not 'PDnnn: reason': {line!r}")
        if code.strip() in entries:
            raise ValueError(f"{path.name}:{number}: {code.strip()} is listed twice")
        entries[code.strip()] = reason.strip()
    return entries


def judge(table: "set[str]", real: "set[str]", allowed: "dict[str, str]") -> "tuple[list, list, list]":
    """(never produced and not allowed, allowed although produced from real input, allowed but not
    in the table): each must be empty."""
    missing = sorted(table - real - set(allowed))
    stale = sorted(set(allowed) & real)
    unknown = sorted(set(allowed) - table)
    return missing, stale, unknown


def table_codes() -> "set[str]":
    from paddledoctor import codes
    return {c.code for c in codes.CODES.values() if not c.retired}


# --- where an input came from ----------------------------------------------------------------------

def fingerprint(facts) -> str:
    from paddledoctor.model import encode
    text = json.dumps(encode(facts), sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


@dataclass
class Recorder:
    real: dict = field(default_factory=dict)        # code -> first test that produced it for real
    hand_made: dict = field(default_factory=dict)   # code -> first test, facts a test wrote
    real_facts: set = field(default_factory=set)    # fingerprints of facts real runs gave
    probe_parts: set = field(default_factory=set)   # fingerprints of what probe functions returned
    schema_errors: list = field(default_factory=list)  # (test, message) of the current test
    test: str = "(collection)"
    originals: dict = field(default_factory=dict)   # (module, name) -> the probe functions
    _validator: object = None

    # recording
    def add(self, codes, provenance: str) -> None:
        into = self.real if provenance == REAL else self.hand_made
        for code in codes:
            into.setdefault(code, self.test)

    def document_provenance(self, path, facts=None) -> str:
        """A document given to --from: real when a real run wrote it, hand-made otherwise."""
        p = Path(path)
        if _under(p, SYNTHESIZED):
            return HAND_MADE
        if any(_under(p, folder) for folder in REAL_DOCUMENTS):
            return REAL
        if facts is not None and fingerprint(facts) in self.real_facts:
            return REAL  # a document a real run of this session emitted (saved by a test)
        return HAND_MADE

    def facts_of_test(self, facts) -> str:
        """Facts a test handed the checks: real when a real run gave exactly these, or when each
        part is what a probe function returned."""
        if fingerprint(facts) in self.real_facts:
            return REAL
        if isinstance(facts, dict) and facts and all(
                fingerprint(v) in self.probe_parts for v in facts.values()):
            return REAL
        return HAND_MADE

    def probes_replaced(self) -> bool:
        """Has a test monkeypatched a probe (or collect_facts) to hand the checks its own facts?"""
        return any(getattr(sys.modules.get(mod), name, obj) is not obj
                   for (mod, name), obj in self.originals.items())

    # the schema
    def validate(self, doc) -> None:
        if self._validator is None:
            import jsonschema
            schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
            jsonschema.Draft202012Validator.check_schema(schema)
            self._validator = jsonschema.Draft202012Validator(schema)
        for error in self._validator.iter_errors(doc):
            where = "/".join(str(p) for p in error.absolute_path) or "(top)"
            self.schema_errors.append(f"{where}: {error.message[:300]}")


RECORDER = Recorder()


def _caller_is_test(depth: int = 2) -> bool:
    frame = sys._getframe(depth)
    return Path(frame.f_code.co_filename).resolve().is_relative_to(TESTS) if frame else False


# --- the wrappers -------------------------------------------------------------------------------------

def _wrap_diagnose(doctor) -> None:
    original = doctor.diagnose

    @functools.wraps(original)
    def diagnose(facts, options=None, mode="full", source="", areas=None):
        by_test = _caller_is_test()
        report = original(facts, options, mode=mode, source=source, areas=areas)
        RECORDER.add({f.code for f in report.findings}, _provenance(facts, mode, source, by_test))
        return report

    doctor.diagnose = diagnose


def _provenance(facts, mode: str, source: str, by_test: bool) -> str:
    if by_test:  # a test's own facts, unless real runs or probes gave them
        return RECORDER.facts_of_test(facts)
    if mode == "from" or (source and mode in ("bench", "inspect", "fleet")):
        return RECORDER.document_provenance(source, facts)
    if mode in ("full", "quick") and RECORDER.probes_replaced():
        return HAND_MADE
    return REAL  # probes, pasted text, checkpoint files, a bench/fleet run


def _wrap_checks_run(checks) -> None:
    """A test that calls the checks itself (diagnose's own call is recorded by diagnose)."""
    original = checks.run

    @functools.wraps(original)
    def run(facts, options=None, areas=None):
        by_test = _caller_is_test()
        findings, areas_out = original(facts, options, areas)
        if by_test:
            RECORDER.add({f.code for f in findings}, RECORDER.facts_of_test(facts))
        return findings, areas_out

    checks.run = run


def _wrap_probes(modules) -> None:
    """Every public function of the probe modules: what it returns is a part real facts may hold."""
    for module in modules:
        for name, obj in list(vars(module).items()):
            if (name.startswith("_") or not callable(obj) or isinstance(obj, type)
                    or getattr(obj, "__module__", None) != module.__name__):
                continue
            setattr(module, name, _recording(obj))


def _recording(fn):
    @functools.wraps(fn)
    def probe(*args, **kwargs):
        value = fn(*args, **kwargs)
        if not (isinstance(value, (dict, list)) and value):
            return value  # None, {}, a scalar: a part any test could write matches no probe
        try:
            RECORDER.probe_parts.add(fingerprint(value))
        except Exception:  # noqa: BLE001 - a value that is not facts (a Child, a Path) is no part
            pass
        return value
    return probe


def _wrap_collect(doctor) -> None:
    original = doctor.collect_facts

    @functools.wraps(original)
    def collect_facts(*args, **kwargs):
        facts = original(*args, **kwargs)
        if not RECORDER.probes_replaced():
            RECORDER.real_facts.add(fingerprint(facts))
        return facts

    doctor.collect_facts = collect_facts


def _wrap_scan(errors) -> None:
    original = errors.scan

    @functools.wraps(original)
    def scan(text):
        matches = original(text)
        RECORDER.add({m.pattern.code for m in matches}, REAL)  # text, real or a test's: parsed
        return matches

    errors.scan = scan


def _wrap_to_json(model) -> None:
    original = model.Report.to_json

    @functools.wraps(original)
    def to_json(self):
        doc = original(self)
        RECORDER.validate(doc)
        return doc

    model.Report.to_json = to_json


def _doctor_argv(args) -> "list[str] | None":
    """The doctor's own arguments when ``args`` starts a paddledoctor, else None."""
    if isinstance(args, (str, bytes)) or not args:
        return None
    argv = [str(a) for a in args]
    for i, a in enumerate(argv):
        if a == "paddledoctor" and i > 0 and argv[i - 1] == "-m" or Path(a).name == "paddledoctor":
            return argv[i + 1:]
    return None


def _cli_provenance(argv: "list[str]", doc: dict) -> str:
    if "--from" in argv and argv.index("--from") + 1 < len(argv):
        path = argv[argv.index("--from") + 1]
        facts = doc.get("facts") if isinstance(doc.get("facts"), dict) else None
        if doc.get("mode") == "pasted" or not Path(path).suffix == ".json" and not doc:
            return REAL if not _under(Path(path), SYNTHESIZED) else HAND_MADE
        from paddledoctor.model import decode
        return RECORDER.document_provenance(path, decode(facts) if facts is not None else None)
    return REAL


# A finding as the terminal renderer prints it (render/findings.py): "ERROR PD201 The NVIDIA ...".
FINDING_LINE = re.compile(r"^(?:ERROR|WARN|INFO) (PD\d{3}) ", re.M)
# The commands whose terminal finding lines are findings of a run; not explain (``explain PD201``
# prints the code's page, whose example output holds such a line) nor codes (the table).
TERMINAL_FINDINGS = ("check", "bench", "inspect", "fleet", "report")


def _launch_logs(args) -> "list[str]":
    """The rank logs of a ``paddle.distributed.launch ... -m paddledoctor fleet`` run."""
    argv = [str(a) for a in args] if isinstance(args, (list, tuple)) else []
    if "paddle.distributed.launch" not in argv or "--log_dir" not in argv:
        return []
    folder = Path(argv[argv.index("--log_dir") + 1])
    return [p.read_text(errors="replace") for p in sorted(folder.glob("workerlog.*"))]


def record_output(args, stdout) -> None:
    """The codes (and the schema) of a doctor's JSON on stdout, or of its terminal output."""
    logs = _launch_logs(args)
    if logs:
        for log in logs:  # a rank's terminal lines, then (when it printed one) its JSON document
            cut = log.find("{") if "{" in log else len(log)
            record_text(["fleet"], log[:cut])
            record_text(["fleet"], log[cut:])
        return
    argv = _doctor_argv(args)
    if argv is None or not stdout:
        return
    text = stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout
    record_text(argv, text)


def record_text(argv: "list[str]", text: str) -> None:
    if not text.lstrip().startswith("{"):
        if argv and argv[0] in TERMINAL_FINDINGS:
            found = set(FINDING_LINE.findall(text))
            RECORDER.add(found, _cli_provenance(argv, {}))
        return
    try:
        doc = json.loads(text)
    except ValueError:
        try:  # a JSON document followed by other output (a rank's log)
            doc, _ = json.JSONDecoder().raw_decode(text.lstrip())
        except ValueError:
            return
    if not isinstance(doc, dict):
        return
    if "matches" in doc:  # explain --json
        RECORDER.add({m.get("code") for m in doc["matches"] if isinstance(m, dict)}, REAL)
        for part in ("check", "pasted"):
            if isinstance(doc.get(part), dict):
                RECORDER.add({f["code"] for f in doc[part].get("findings", [])}, REAL)
        return
    if "schema_version" not in doc or "findings" not in doc:
        return
    RECORDER.validate(doc)
    provenance = _cli_provenance(argv, doc)
    if provenance == REAL and isinstance(doc.get("facts"), dict):
        from paddledoctor.model import decode
        RECORDER.real_facts.add(fingerprint(decode(doc["facts"])))
    RECORDER.add({f["code"] for f in doc["findings"] if isinstance(f, dict)}, provenance)


def _wrap_subprocess_run() -> None:
    original = subprocess.run

    @functools.wraps(original)
    def run(*popenargs, **kwargs):
        proc = original(*popenargs, **kwargs)
        args = popenargs[0] if popenargs else kwargs.get("args")
        try:
            record_output(args, proc.stdout)
        except Exception as exc:  # noqa: BLE001 - a recorder bug must not hide the test's own result
            RECORDER.schema_errors.append(f"codes_seen could not read a doctor's output: {exc!r}")
        return proc

    subprocess.run = run


def _probe_modules() -> list:
    import paddledoctor.probes as probes
    return [importlib.import_module(f"paddledoctor.probes.{info.name}")
            for info in pkgutil.iter_modules(probes.__path__) if info.name != "children"]


def _snapshot_probes() -> dict:
    """The probe functions (and collect_facts) as installed: a test that replaces one is seen."""
    import paddledoctor.doctor as doctor

    names = {}
    for module in [doctor, *_probe_modules()]:
        for name, obj in vars(module).items():
            if callable(obj) and not name.startswith("__"):
                names[(module.__name__, name)] = obj
    return names


def install() -> None:
    import paddledoctor.checks as checks
    import paddledoctor.doctor as doctor
    import paddledoctor.knowledge.errors as errors
    import paddledoctor.model as model

    _wrap_probes(_probe_modules())
    _wrap_checks_run(checks)
    _wrap_diagnose(doctor)
    _wrap_collect(doctor)
    _wrap_scan(errors)
    _wrap_to_json(model)
    _wrap_subprocess_run()
    RECORDER.originals = _snapshot_probes()


# --- the plugin ---------------------------------------------------------------------------------------

class Plugin:
    """Records per test, validates per test, judges at the end of a whole-suite session."""

    def __init__(self, config):
        self.config = config
        self.deselected = 0
        self.outcome: "list[str] | None" = None

    def pytest_sessionstart(self, session):
        if self.config.getoption("--codes-seen", False):
            report_from_cache(self.config)
            pytest.exit("--codes-seen: the record above", returncode=0)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        RECORDER.test, RECORDER.schema_errors = item.nodeid, []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        result = yield
        errors, RECORDER.schema_errors = RECORDER.schema_errors, []
        if errors:  # the test emitted a document that docs/report.schema.json rejects
            raise AssertionError("a report document does not follow docs/report.schema.json:\n  "
                                 + "\n  ".join(errors[:10]))
        return result

    def pytest_deselected(self, items):
        self.deselected += len(items)

    def whole_suite(self, session) -> "str | None":
        """None when the session ran every test of the suite, else why it did not."""
        opt = self.config.option
        if getattr(opt, "keyword", "") or getattr(opt, "markexpr", ""):
            return "-k or -m chose a subset"
        if self.deselected or getattr(opt, "lf", False) or getattr(opt, "deselect", None):
            return "tests were deselected"
        if session.shouldstop or session.shouldfail:
            return "the session stopped early"
        paths = {Path(a.split("::")[0]).resolve() for a in self.config.args}
        if not (TESTS in paths or ROOT in paths) or any("::" in a for a in self.config.args):
            return "only part of tests/ was given"
        return None

    def pytest_sessionfinish(self, session, exitstatus):
        table = table_codes()
        record = {"real": RECORDER.real, "hand_made": RECORDER.hand_made}
        if getattr(self.config, "cache", None) is not None:
            self.config.cache.set(CACHE_KEY, record)
        why_not = self.whole_suite(session)
        if why_not or exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.USAGE_ERROR):
            self.outcome = None
            return
        missing, stale, unknown = judge(table, set(RECORDER.real), read_allowlist())
        lines = []
        for code in missing:
            seen = RECORDER.hand_made.get(code)
            lines.append(f"{code} is produced by no test from real input"
                         + (f" (only from hand-made facts, e.g. {seen})" if seen else "")
                         + f": write one, or name it in {ALLOWLIST.name} with the reason")
        lines += [f"{code} is in {ALLOWLIST.name} but {RECORDER.real[code]} produces it from real "
                  "input: remove the entry" for code in stale]
        lines += [f"{code} is in {ALLOWLIST.name} but not in paddledoctor/codes.py" for code in unknown]
        self.outcome = lines
        if lines and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if self.outcome is None:
            return
        table = table_codes()
        terminalreporter.section("finding codes produced from real input")
        terminalreporter.write_line(
            f"{len(table & set(RECORDER.real))}/{len(table)} codes produced from real input, "
            f"{len(read_allowlist())} on hand-made facts by {ALLOWLIST.name}")
        for line in self.outcome:
            terminalreporter.write_line(f"FAILED {line}", red=True)


def report_from_cache(config) -> None:
    """``pytest --codes-seen``: the last session's record against the table, then exit."""
    cache = getattr(config, "cache", None)
    record = cache.get(CACHE_KEY, None) if cache is not None else None
    if record is None:
        print("no record yet: run the suite first")
        return
    missing, stale, unknown = judge(table_codes(), set(record["real"]), read_allowlist())
    print(f"{len(record['real'])} codes produced from real input in the last session")
    for code in missing:
        print(f"missing {code}" + (f" (hand-made only: {record['hand_made'][code]})"
                                   if code in record["hand_made"] else ""))
    for code in stale:
        print(f"stale allowlist entry {code} (produced by {record['real'][code]})")
    for code in unknown:
        print(f"unknown allowlist entry {code}")
