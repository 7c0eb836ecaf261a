"""The message catalogs of paddledoctor: extract, update, check, compile (issue #17).

The product keeps writing English everywhere (JSON, logs, tests, ``check --from``); a renderer turns
an English text into the chosen language at print time (paddledoctor/i18n). The catalog's msgids are
therefore the *templates* of the English texts as the source writes them: this tool reads the source
with :mod:`ast` and turns each user-facing string expression into the English texts it can produce,
with a named ``{placeholder}`` where a value goes::

    f"{label} has {volatile} uncorrected ECC error(s) since boot" + (f", {aggregate} ..." if x else "")
    -> "{label} has {volatile} uncorrected ECC error(s) since boot"
       "{label} has {volatile} uncorrected ECC error(s) since boot, {aggregate} in its lifetime"

A variable that a function assigns a string expression to is followed into the text that uses it
(``label``, ``kind`` above), so that two values never sit side by side in a template.

Which expressions are messages: in the judging modules (checks, codes, knowledge, the verdicts of
model.py) every string expression with at least two English words that is not a command, a key, a
comparison operand or a pattern; in the renderers and commands, the arguments of ``tr(...)``, the
``help=`` of options and the docstrings of commands. Evidence labels are the string keys of the dict
literals of the checks (context ``label``).

    python tools/i18n.py update     # extract, merge into every .po (new entries empty), compile
    python tools/i18n.py check      # exit 1 on a missing entry or a placeholder mismatch
    python tools/i18n.py compile    # .po -> .mo only

Standard library only: the .mo writer is here (``msgfmt`` is often not installed).
"""

from __future__ import annotations

import ast
import re
import string
import struct
import sys
from dataclasses import dataclass
from itertools import product
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "paddledoctor"
LOCALES = PACKAGE / "i18n" / "locale"
DOMAIN = "paddledoctor"
LABEL = "label"  # msgctxt of evidence labels

# Modules whose every worded string is a message (they write findings, summaries, verdicts).
JUDGING = ["checks", "codes.py", "model.py", "selection.py", "config.py", "explain.py", "commands.py",
           "render/markdown.py", "render/bench.py", "render/inspect.py", "render/explain.py",
           "fleet/table.py", "fleet/command.py", "bench/command.py", "inspect/command.py", "report.py",
           "preflight.py", "paste/__init__.py", "paste/parsers.py", "probes/isolate.py", "sizes.py"]
# Modules whose messages are marked: tr(...), help=..., command docstrings.
MARKED = ["render/terminal.py", "render/findings.py", "cli.py", "i18n"]
# Tables whose values are texts: {module: names assigned a dict (or tuple) of them}.
DICT_VALUES = {"codes.py": {"AREA_TITLES"}, "i18n/cli.py": {"HEADINGS"}, "render/explain.py": {"STATUS"}}
# Tables whose rows carry texts in known fields: {call: (positions, keywords)}.
FIELDS = {"knowledge/errors.py": {"ErrorPattern": ((3, 4), ("cause", "fix"))},
          "knowledge/stack.py": {"KnownBad": ((3, 6), ("title", "workaround"))}}
FORMATTED = {("KnownBad", 3)}  # fields the check fills with str.format ("Paddle {version} ...")
NOT_MESSAGES = {"checks/shape.py"}  # type shapes of facts, never shown
# Calls whose string arguments are keys, patterns or paths, never text.
KEY_CALLS = {"get", "startswith", "endswith", "split", "rsplit", "partition", "compile", "search",
             "match", "fullmatch", "sub", "findall", "finditer", "getenv", "Path", "open", "index",
             "find", "count", "replace", "strip", "rstrip", "lstrip", "encode", "decode", "removeprefix",
             "removesuffix", "setdefault", "pop", "environ", "isinstance", "hasattr", "getattr", "F.get",
             "reason", "fact", "pip_name", "Version", "SpecifierSet", "Requirement", "Marker", "join"}
COMMAND_START = re.compile(r"^(\{[a-z_0-9]+\} (-m pip )?(install|uninstall|-m)\b|(python3?|pip3?|sudo|"
                           r"nvidia-smi|export|conda|docker|cat|ls|ldconfig|ldd|apt(-get)?|yum|dnf|"
                           r"unset|ulimit|mount|df|free|uname|nvcc|strings|readelf|set|echo|"
                           r"paddledoctor|modprobe|cd|mkdir|chmod|dmesg|lspci|grep|rm|ln|env|"
                           r"\$env:|setx|wsl|where|tegrastats|pkill|kill|id) )")
WORDS = re.compile(r"[A-Za-z]{2,}[^A-Za-z{}]*\s[^A-Za-z{}]*[A-Za-z]{2,}")
MAX_TEMPLATES = 64
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# The words of rich styles ("bold red"): a string made of them only is a style, never shown.
STYLE_WORDS = {"bold", "dim", "italic", "underline", "reverse", "not", "on", "red", "green", "yellow",
               "blue", "cyan", "magenta", "white", "black", "bright_red", "bright_green", "bright_yellow"}


@dataclass(frozen=True)
class Message:
    msgid: str
    where: str
    context: str = ""


# --- templates of string expressions -------------------------------------------------------------

def _brace(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _name(node: ast.AST) -> str:
    """A placeholder's name: what the value is called in the source (``nvml.get('error')`` is
    ``error``, ``g['index']`` is ``index``, ``len(files)`` is ``files``)."""
    if isinstance(node, ast.Name):
        raw = node.id
    elif isinstance(node, ast.Attribute):
        raw = node.attr
    elif isinstance(node, ast.Subscript):
        s = node.slice
        raw = s.value if isinstance(s, ast.Constant) and isinstance(s.value, str) else _name(node.value)
    elif isinstance(node, ast.Call):
        args = [a for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join":
            raw = _name(node.args[0]) if node.args else "list"
        elif args:
            raw = args[-1].value
        elif node.args:
            raw = _name(node.args[0])
        else:
            raw = _name(node.func)
    elif isinstance(node, (ast.GeneratorExp, ast.ListComp)):
        raw = _name(node.elt)
    elif isinstance(node, ast.BinOp):
        raw = _name(node.left)
    else:
        raw = "value"
    raw = re.sub(r"[^a-z0-9_]+", "_", str(raw).lower()).strip("_") or "value"
    return raw if not raw[0].isdigit() else f"v{raw}"


class Templates:
    """The templates of the string expressions of one function (or module), following the names it
    assigns string expressions to."""

    def __init__(self, scope: ast.AST):
        self.follow_names = False  # only through _value's `follow`
        self.assigned: dict[str, list[ast.AST]] = {}
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.assigned.setdefault(node.targets[0].id, []).append(node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) \
                    and isinstance(node.op, ast.Add):
                # `text += "..."`: the name is its first value, or that value with the addition
                firsts = self.assigned.get(node.target.id) or []
                if firsts:
                    self.assigned[node.target.id].append(
                        ast.BinOp(left=ast.Name(id=node.target.id), op=ast.Add(), right=node.value))

    def of(self, node: ast.AST, seen: frozenset = frozenset()) -> "list[list] | None":
        """Each text as a list of parts: str (literal) or (name, node) (a value); None when the
        expression is not a string expression."""
        if isinstance(node, ast.Constant):
            return [[node.value]] if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr):
            choices, values = [], node.values
            for i, v in enumerate(values):
                if isinstance(v, ast.Constant):
                    choices.append([[v.value]])
                    continue
                beside = [values[j] for j in (i - 1, i + 1) if 0 <= j < len(values)]
                adjacent = any(isinstance(b, ast.FormattedValue) for b in beside)
                choices.append(self._value(v.value, seen, formatted=v, follow=adjacent))
            return self._product(choices)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.of(node.left, seen), self.of(node.right, seen)
            if left is None and right is None:
                return None
            left = left if left is not None else [[(_name(node.left), node.left)]]
            right = right if right is not None else [[(_name(node.right), node.right)]]
            return self._product([left, right])
        if isinstance(node, ast.IfExp):
            body, orelse = self.of(node.body, seen), self.of(node.orelse, seen)
            if body is None and orelse is None:
                return None
            out = (body if body is not None else [[(_name(node.body), node.body)]]) + \
                  (orelse if orelse is not None else [[(_name(node.orelse), node.orelse)]])
            return out[:MAX_TEMPLATES]
        if isinstance(node, ast.Name) and node.id in self.assigned and node.id not in seen \
                and self.follow_names:
            alternatives = []
            for value in self.assigned[node.id]:
                t = self.of(value, seen | {node.id})
                if t is None:
                    return None
                alternatives.extend(t)
            return alternatives[:MAX_TEMPLATES] or None
        return None

    def _value(self, node, seen, formatted=None, follow=False) -> list:
        """A value inside an f-string: a conditional of texts, or a name that sits right beside
        another value (``{names}{imported}`` could not be told apart), else a value."""
        plain = formatted is None or (formatted.format_spec is None and formatted.conversion == -1)
        if plain and (isinstance(node, ast.IfExp) or (follow and isinstance(node, ast.Name))):
            self.follow_names, before = True, self.follow_names
            try:
                t = self.of(node, seen)
            finally:
                self.follow_names = before
            if t is not None:
                return t
        return [[(_name(node), node)]]

    @staticmethod
    def _product(choices: list) -> list:
        out = []
        for combo in product(*choices):
            out.append([part for text in combo for part in text])
            if len(out) >= MAX_TEMPLATES:
                break
        return out


def template_text(parts: list) -> str:
    """Parts to a msgid: literals brace-escaped, each distinct value a {name} (a name that two
    different values share gets a number)."""
    out, names = [], {}
    for part in parts:
        if isinstance(part, str):
            out.append(_brace(part))
            continue
        name, node = part
        key = ast.dump(node)
        if key not in names:
            taken = set(names.values())
            unique, n = name, 2
            while unique in taken:
                unique, n = f"{name}{n}", n + 1
            names[key] = unique
        out.append("{" + names[key] + "}")
    return "".join(out)


def is_message(msgid: str) -> bool:
    """Two words, or one of three letters beside a value ("driver {version}", "{n} CPUs"); not a
    command, not a URL."""
    literal = PLACEHOLDER.sub("{}", msgid)
    if not literal.split() or COMMAND_START.match(msgid.strip()) or "://" in literal:
        return False
    if set(literal.split()) <= STYLE_WORDS:
        return False
    worded = WORDS.search(literal) or (PLACEHOLDER.search(msgid) and re.search(r"[A-Za-z]{3,}", literal))
    return bool(worded)


# --- where the messages are -------------------------------------------------------------------------

def _parents(tree: ast.AST) -> dict:
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _call_name(call: ast.Call) -> str:
    f = call.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute):
        if isinstance(f.value, ast.Name) and f.value.id == "F":
            return "F." + f.attr
        return f.attr
    return ""


STRINGY = (ast.JoinedStr, ast.BinOp, ast.IfExp)


def _is_root(node, parents) -> bool:
    """A string expression that is not part of a bigger one."""
    parent = parents.get(node)
    if isinstance(parent, ast.JoinedStr) or isinstance(parent, ast.FormattedValue):
        return False
    if isinstance(parent, (ast.BinOp, ast.IfExp)) and _stringish(parent):
        return False
    return True


def _stringish(node) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _stringish(node.left) or _stringish(node.right)
    if isinstance(node, ast.IfExp):
        return _stringish(node.body) or _stringish(node.orelse)
    return False


def _excluded(node, parents) -> bool:
    """A key, a pattern, a comparison operand, a command list of a Fix, a docstring."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and child is parent.returns:
            return True  # an annotation
        if isinstance(parent, (ast.arg, ast.AnnAssign)) and child is parent.annotation:
            return True
        if isinstance(parent, ast.Expr):
            return True  # a docstring or a bare string
        if isinstance(parent, ast.Compare):
            return True
        if isinstance(parent, ast.Subscript) and child is parent.slice:
            return True
        if isinstance(parent, ast.Dict) and child in parent.keys:
            return True
        if isinstance(parent, ast.Call):
            name = _call_name(parent)
            if name in KEY_CALLS and child is not parent.func:
                return True
            if name == "Fix" and parent.args and child is parent.args[0]:
                return True
            if any(k.arg == "commands" and k.value is child for k in parent.keywords):
                return True
            return False
        if isinstance(parent, ast.keyword) and parent.arg in ("name", "prefix", "suffix"):
            return True  # a thread's or a temporary file's name
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module,
                               ast.Return, ast.Assign, ast.keyword, ast.Yield)):
            return False
        child, parent = parent, parents.get(parent)
    return False


def _scopes(tree):
    """Each function with its own Templates; module-level code with the module's."""
    funcs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    owner = {}
    for fn in funcs:
        for node in ast.walk(fn):
            owner[node] = fn  # innermost wins: ast.walk visits outer functions first
    return owner


def messages_of(path: Path, judging: bool) -> list[Message]:
    rel = path.relative_to(PACKAGE).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = _parents(tree)
    owner = _scopes(tree)
    cache: dict = {}

    def templates(node):
        scope = owner.get(node, tree)
        if scope not in cache:
            cache[scope] = Templates(scope)
        return cache[scope].of(node) or []

    found: list[Message] = []

    def add(node, check_words=True, formatted=False):
        for parts in templates(node):
            msgid = template_text(parts)
            if formatted:  # a table's text the check fills with str.format: its {names} are values
                msgid = msgid.replace("{{", "{").replace("}}", "}")
            if not check_words or is_message(msgid):
                found.append(Message(msgid, f"{rel}:{node.lineno}"))

    fields, tables = FIELDS.get(rel, {}), DICT_VALUES.get(rel, set())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in tables for t in node.targets):
            v = node.value
            for value in v.values if isinstance(v, ast.Dict) else getattr(v, "elts", []):
                add(value.elts[0] if isinstance(value, ast.Tuple) else value, check_words=False)
        if isinstance(node, ast.Call) and _call_name(node) in fields:
            name = _call_name(node)
            positions, keywords = fields[name]
            for i, arg in enumerate(node.args):
                if i in positions:
                    add(arg, check_words=False, formatted=(name, i) in FORMATTED)
            for k in node.keywords:
                if k.arg in keywords:
                    add(k.value, check_words=False)
        if judging and _stringish(node) and _is_root(node, parents) and not _excluded(node, parents):
            add(node)
        if isinstance(node, ast.Call) and _call_name(node) == "tr" and node.args:
            add(node.args[0], check_words=False)
        if isinstance(node, ast.keyword) and node.arg == "help" and _stringish(node.value):
            add(node.value, check_words=False)
        if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and _call_name(d) in {"command", "group"}
                for d in node.decorator_list):
            doc = ast.get_docstring(node)
            if doc:
                for para in help_paragraphs(doc):
                    found.append(Message(para, f"{rel}:{node.lineno}"))
        if judging and rel.startswith("checks/"):
            for key in _label_keys(node):
                if isinstance(key, ast.Constant) and isinstance(key.value, str) \
                        and re.fullmatch(r"[a-z][a-z0-9_]*", key.value):
                    found.append(Message(key.value, f"{rel}:{key.lineno}", LABEL))
    return found


def _label_keys(node: ast.AST) -> list:
    """The string keys a check gives its evidence: a dict literal's keys, ``evidence["key"] = ...``,
    and the names a comprehension copies (``{k: imp.get(k) for k in ("outcome", "error")}``)."""
    if isinstance(node, ast.Dict):
        return list(node.keys)
    if isinstance(node, ast.Assign):
        return [t.slice for t in node.targets if isinstance(t, ast.Subscript)
                and isinstance(t.value, ast.Name) and t.value.id == "evidence"]
    if isinstance(node, ast.DictComp) and isinstance(node.generators[0].iter, (ast.Tuple, ast.List)):
        return list(node.generators[0].iter.elts)
    return []


def help_paragraphs(doc: str) -> list[str]:
    """A command's docstring as click shows it: paragraphs, each rewrapped into one line."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", doc.strip()) if p.strip()]


def extract() -> list[Message]:
    out: dict = {}
    for group, judging in ((JUDGING, True), (MARKED, False), (list(FIELDS), False)):
        for entry in group:
            target = PACKAGE / entry
            files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
            for path in files:
                if path.relative_to(PACKAGE).as_posix() in NOT_MESSAGES or not path.exists():
                    continue
                for m in messages_of(path, judging):
                    out.setdefault((m.context, m.msgid), m)
    return sorted(out.values(), key=lambda m: (m.context, m.where, m.msgid))


# --- .po files ---------------------------------------------------------------------------------------

def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def _unquote(line: str) -> str:
    body = line.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def read_po(path: Path) -> dict:
    """{(context, msgid): msgstr} of a .po file (the header entry has msgid "")."""
    entries, cur, field = {}, {}, None
    if not path.exists():
        return entries

    def flush():
        if "msgid" in cur:
            entries[(cur.get("msgctxt", ""), cur["msgid"])] = cur.get("msgstr", "")
        cur.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
            field = None
        elif line.startswith("#"):
            continue
        elif line.startswith(('msgctxt ', 'msgid ', 'msgstr ')):
            key, _, rest = line.partition(" ")
            if key in ("msgctxt", "msgid") and "msgstr" in cur:
                flush()  # a new entry without a blank line before it
            field = key
            cur[field] = _unquote(rest)
        elif line.startswith('"') and field:
            cur[field] += _unquote(line)
    flush()
    return entries


HEADER = ("Project-Id-Version: paddledoctor\nMIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nLanguage: {lang}\n")


def write_po(path: Path, lang: str, messages: list[Message], old: dict) -> None:
    lines = ['msgid ""', "msgstr " + _quote(HEADER.format(lang=lang)), ""]
    for m in messages:
        lines.append(f"#: {m.where}")
        if PLACEHOLDER.search(m.msgid):
            lines.append("#, python-brace-format")
        if m.context:
            lines.append("msgctxt " + _quote(m.context))
        lines.append("msgid " + _quote(m.msgid))
        lines.append("msgstr " + _quote(old.get((m.context, m.msgid), "")))
        lines.append("")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def write_mo(path: Path, entries: dict) -> None:
    """The GNU .mo format (what gettext.GNUTranslations reads): magic, count, two tables of
    (length, offset) for the keys and the values, no hash table, then the strings NUL-ended.
    A key with a context is ``context\\x04msgid``; untranslated entries are left out."""
    pairs = sorted(((f"{c}\x04{k}" if c else k).encode(), v.encode())
                   for (c, k), v in entries.items() if v or k == "")
    n = len(pairs)
    keys_at = 7 * 4
    values_at = keys_at + n * 8
    data_at = values_at + n * 8
    blob, ktable, vtable = b"", [], []
    for k, _ in pairs:
        ktable.append((len(k), data_at + len(blob)))
        blob += k + b"\0"
    for _, v in pairs:
        vtable.append((len(v), data_at + len(blob)))
        blob += v + b"\0"
    head = struct.pack("<7I", 0x950412DE, 0, n, keys_at, values_at, 0, data_at)
    tables = b"".join(struct.pack("<2I", *e) for e in ktable + vtable)
    path.write_bytes(head + tables + blob)


# --- checking -----------------------------------------------------------------------------------------

def placeholders(text: str) -> set:
    names = set()
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None:
            names.add(field)
    return names


def problems(messages: list[Message], entries: dict) -> list[str]:
    out = []
    for m in messages:
        got = entries.get((m.context, m.msgid), "")
        if not got:
            out.append(f"missing: {m.where}: {m.msgid!r}")
            continue
        try:
            want, have = placeholders(m.msgid), placeholders(got)
        except ValueError as exc:
            out.append(f"bad format: {m.where}: {m.msgid!r} -> {got!r} ({exc})")
            continue
        if want != have:
            out.append(f"placeholders differ: {m.where}: {m.msgid!r} {sorted(want)} -> {got!r} {sorted(have)}")
    return out


def languages() -> list[str]:
    return sorted(p.name for p in LOCALES.iterdir() if p.is_dir()) if LOCALES.is_dir() else []


def po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_all() -> None:
    for lang in languages():
        po = po_path(lang)
        write_mo(po.with_suffix(".mo"), read_po(po))


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "check"
    messages = extract()
    if what == "update":
        for lang in languages() or ["zh"]:
            po = po_path(lang)
            write_po(po, lang, messages, read_po(po))
        compile_all()
    elif what == "compile":
        compile_all()
        return 0
    elif what != "check":
        print(__doc__)
        return 2
    bad = 0
    for lang in languages():
        found = problems(messages, read_po(po_path(lang)))
        for line in found:
            print(f"{lang}: {line}")
        bad += len(found)
    print(f"{len(messages)} messages; {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
