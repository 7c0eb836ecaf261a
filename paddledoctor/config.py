"""Requirements of a training job, from a config file and from the caller (CLI options or
``preflight()`` arguments). The caller wins over the file.

The file is ``paddledoctor.toml`` (keys at the top level) or ``[tool.paddledoctor]`` in
``pyproject.toml``: given with ``--config FILE``, or else found in the current folder or the nearest
parent that has one (the first folder holding ``paddledoctor.toml``, or a ``pyproject.toml`` with a
``[tool.paddledoctor]`` table). The search stops at the user's home, at a repository's root (a folder
holding ``.git``) and at a filesystem boundary: a file in ``/`` or on another mount is someone else's.
``--no-config`` (or ``PADDLEDOCTOR_CONFIG=none``) reads none. ``~`` in a path is the user's home; a
relative path is relative to the file. Keys are the CLI's option names::

    [tool.paddledoctor]
    require-gpu = true
    min-gpus = 8
    min-free-gpu-mem = "20GiB"
    min-free-disk = "100GiB"
    checkpoint-dir = "/mnt/ckpt"
    bench = false
    timeout = 60
    strict = false
    ignore = ["PD306"]   # findings kept in --json (marked "ignored"), out of the verdict
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from . import sizes


class ConfigError(ValueError):
    """A config file or a requirement value that cannot be used (bad key, type or size)."""


# option name (snake_case, as in check()/preflight()) -> the type it takes
KEYS: dict[str, str] = {
    "require_gpu": "bool",
    "min_gpus": "count",
    "min_free_gpu_mem": "size",
    "min_free_disk": "size",
    "checkpoint_dir": "path",
    "bench": "bool",
    "timeout": "seconds",
    "strict": "bool",
    "quick": "bool",
    "ignore": "codes",  # findings kept in the report, out of the verdict (#15)
}

def parse_size(value: Any, what: str = "size") -> int:
    """The one size parser (paddledoctor/sizes.py: ``512m`` is 512 MiB, ``100GB`` 10^9 bytes), its
    refusal a ConfigError like every other bad setting."""
    try:
        return sizes.parse_size(value, what)
    except sizes.SizeError as exc:
        raise ConfigError(str(exc)) from None


def _normalise(key: str) -> str:
    return key.replace("-", "_")


def _coerce(key: str, value: Any, origin: str) -> Any:
    kind = KEYS[key]
    what = f"{origin}: {key.replace('_', '-')}"
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{what}: expected true or false, got {value!r}")
        return value
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{what}: expected a whole number >= 0, got {value!r}")
        return value
    if kind == "seconds":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1 <= value <= 3600:
            raise ConfigError(f"{what}: expected seconds between 1 and 3600, got {value!r}")
        return float(value)
    if kind == "size":
        return parse_size(value, what)
    if kind == "codes":
        from . import codes as _codes
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(c, str) for c in items):
            raise ConfigError(f"{what}: expected a list of codes such as [\"PD306\"], got {value!r}")
        unknown = [c for c in items if c.upper() not in _codes.CODES]
        if unknown:
            raise ConfigError(f"{what}: unknown code(s) {', '.join(unknown)} "
                              "(`paddledoctor codes` lists them)")
        return [c.upper() for c in items]
    if kind == "path":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{what}: expected a path, got {value!r}")
        return os.path.expanduser(value)  # "~/ckpt" is not a folder named "~"
    raise AssertionError(kind)


def find_config(start: str | os.PathLike | None = None) -> Path | None:
    """The config file that applies in ``start`` (default: the current folder), or None."""
    for folder in _search_folders(Path(start or os.getcwd()).resolve()):
        own = folder / "paddledoctor.toml"
        if own.is_file():
            return own
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                if "paddledoctor" in _read_toml(pyproject).get("tool", {}):
                    return pyproject
            except ConfigError:
                continue  # someone else's broken pyproject.toml is not ours to judge
    return None


def _search_folders(here: Path):
    """``here``, then its parents, up to the first that is the user's home or a repository's root
    (``.git`` in it), and never across a filesystem boundary (a parent on another device)."""
    home = _home()
    folder = here
    while True:
        yield folder
        parent = folder.parent
        if folder == home or parent == folder or (folder / ".git").exists() \
                or _device(parent) != _device(folder):
            return
        folder = parent


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError, OSError):  # no HOME and no passwd entry
        return None


def _device(folder: Path) -> int | None:
    try:
        return folder.stat().st_dev
    except OSError:
        return None


def _read_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - tomli is a dependency on Python < 3.11
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def load_config(path: str | os.PathLike) -> dict:
    """The requirements a config file states, as check()/preflight() keyword arguments."""
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{p} is a directory, not a config file")
    doc = _read_toml(p)
    if p.name == "pyproject.toml":
        table = doc.get("tool", {}).get("paddledoctor")
        if table is None:
            raise ConfigError(f"{p} has no [tool.paddledoctor] table")
        origin = f"{p} [tool.paddledoctor]"
    else:
        table = doc.get("tool", {}).get("paddledoctor", doc) if set(doc) == {"tool"} else doc
        origin = str(p)
    if not isinstance(table, dict):
        raise ConfigError(f"{origin}: expected a table of settings")
    out = {}
    for raw_key, value in table.items():
        key = _normalise(raw_key)
        if key not in KEYS:
            known = ", ".join(k.replace("_", "-") for k in KEYS)
            raise ConfigError(f"{origin}: unknown setting {raw_key!r} (known: {known})")
        out[key] = _coerce(key, value, origin)
    if "checkpoint_dir" in out:  # relative to the file, as a user reading the file expects
        out["checkpoint_dir"] = str((p.resolve().parent / out["checkpoint_dir"]))
    return out


def resolve(explicit: dict, config: "str | os.PathLike | bool | None" = None,
            start: str | os.PathLike | None = None) -> tuple[dict, str | None]:
    """Merge the requirements: values the caller gave (not None) over the config file's.

    ``config``: a path (that file, which must exist), None (look for one from ``start``), or False
    (no file). Returns the merged settings (validated) and the file used, if any."""
    path: Path | None
    env = os.environ.get("PADDLEDOCTOR_CONFIG")  # "none": never search; a path: that file
    if config is None and env is not None:
        config = False if env.strip().lower() in ("", "none", "off", "0") else os.path.expanduser(env)
    if config is False:
        path = None
    elif config is None or config is True:
        path = find_config(start)
    else:
        path = Path(os.path.expanduser(os.fspath(config)))
        if not path.exists():
            raise ConfigError(f"config file {path} does not exist")
    settings = load_config(path) if path else {}
    for key, value in explicit.items():
        if value is None:
            continue
        if key not in KEYS:
            raise ConfigError(f"unknown requirement {key!r}")
        settings[key] = _coerce(key, value, "argument")
    return settings, (str(path) if path else None)
