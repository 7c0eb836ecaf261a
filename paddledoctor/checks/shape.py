"""The shape the checks may rely on: facts from a recorded report (an older doctor, a hand-edited
file, a probe that answered oddly) are brought to it before any check runs, so that a check never
crashes on a value of the wrong type (issue #12).

A value of the wrong type (``"nvml": "x"``, ``"shm": {"total": "big"}``) is removed, as a fact the
report does not have; an entry of a list that is not what the list holds is left out. What was set
aside is listed under ``facts["doctor"]["not_understood"]`` (in the copy the checks see; the report
keeps the facts as they came), and PD003 says so. The input is never changed. (A probe that could
not run is another thing: its facts are :class:`Unavailable` with the reason, and PD001 says so.)
"""

from __future__ import annotations

from typing import Any

from ..model import Unavailable

OBJ, LIST, INT, STR, NUM, ARCH = "object", "list", "int", "str", "number", "arch"
EACH = "*"  # every key of an object


def _obj(**children) -> tuple:
    return (OBJ, children)


def _list_of(item) -> tuple:
    return (LIST, item)


SHAPE = _obj(
    host=_obj(
        os=_obj(system=STR, machine=STR),
        python=_obj(version=STR),
        cpu=_obj(flags=OBJ, logical_cpus=INT, usable_cpus=INT),
        memory=_obj(total=INT, available=INT, cgroup_limit=INT),
        shm=_obj(total=INT, free=INT),
        disk=_obj(**{EACH: _obj(path=STR, total=INT, free=INT)}),
        env=OBJ,
        pci_nvidia=_obj(count=INT),
        compiler=OBJ,
    ),
    nvml=_obj(status=STR, gpu_count=INT, driver_version=STR,
              gpus=_list_of(_obj(memory=_obj(total=INT, used=INT, free=INT),
                                 compute_capability=STR, remapped_rows=OBJ,
                                 processes=_list_of(OBJ)))),
    runtime=_obj(**{"import": _obj(), "build": _obj(cuda_archs=_list_of(ARCH)),
                    "devices": _obj(gpu_count=INT, gpus=_list_of(OBJ)),
                    "ops": _list_of(_obj(device=STR))}),
    paddle=_obj(version_file=_obj(compiled_cuda_archs=_list_of(ARCH))),
    distributions=_obj(paddle_providers=_list_of(_obj(name=STR, version=STR, location=STR)),
                       packages=_obj(**{EACH: _list_of(OBJ)})),
    cuda_libs=_obj(**{EACH: _list_of(_obj(path=STR))}),
    doctor=_obj(version=STR, mode=STR),
    inspect=_obj(files=_list_of(_obj(path=STR, problems=_list_of(_obj(kind=STR, message=STR)),
                                     tensors=_list_of(_obj(name=STR))))),
)
# Entries of these lists are only usable with these keys (a provider without a name cannot be
# uninstalled, a device op without a device names nothing; a provider's location may be unknown,
# as in a pasted pip list).
REQUIRED = {"paddle_providers": ("name",), "ops": ("device",),
            "problems": ("kind", "message")}


def _fits(value: Any, kind: str) -> bool:
    if kind == ARCH and isinstance(value, str):
        return value.isdigit()  # archs recorded as strings ("80")
    if kind in (INT, ARCH):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUM:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == STR:
        return isinstance(value, str)
    if kind == OBJ:
        return isinstance(value, dict)
    if kind == LIST:
        return isinstance(value, list)
    return True


def _conform(value: Any, shape, path: str, dropped: list) -> Any:
    if isinstance(value, Unavailable) or value is None:
        return value
    kind, inner = shape if isinstance(shape, tuple) else (shape, None)
    if not _fits(value, kind):
        dropped.append(f"{path}: expected {'an' if kind[0] in 'aeiou' else 'a'} {kind}, "
                       f"got {type(value).__name__}")
        return _MISSING
    if kind == OBJ and inner:
        out = {}
        for key, child in value.items():
            sub = inner.get(key, inner.get(EACH))
            conformed = _conform(child, sub, f"{path}.{key}", dropped) if sub else child
            if conformed is not _MISSING:
                out[key] = conformed
        return out
    if kind == LIST and inner is not None:
        name = path.rsplit(".", 1)[-1]
        out = []
        for i, item in enumerate(value):
            if item is None:
                dropped.append(f"{path}[{i}]: null")
                continue
            conformed = _conform(item, inner, f"{path}[{i}]", dropped)
            if conformed is _MISSING or isinstance(conformed, Unavailable):
                continue  # an entry of the wrong type is left out
            if isinstance(conformed, dict) and any(
                    not isinstance(conformed.get(k), str) for k in REQUIRED.get(name, ())):
                dropped.append(f"{path}[{i}]: lacks {', '.join(REQUIRED[name])}")
                continue
            out.append(conformed)
        return out
    return value


class _Missing:
    pass


_MISSING = _Missing()


def conform(facts: Any) -> dict:
    """A copy of ``facts`` in the shape the checks rely on (see the module's docstring)."""
    if not isinstance(facts, dict):
        return {"doctor": {"not_understood": [f"the facts are a {type(facts).__name__}"]}}
    dropped: list = []
    out = _conform(facts, SHAPE, "facts", dropped)
    if dropped:
        doctor = out.get("doctor")
        out["doctor"] = dict(doctor) if isinstance(doctor, dict) else {}
        out["doctor"]["not_understood"] = dropped
    return out
