"""Would ``import paddle`` load, as far as the host's C/C++ runtime and shared libraries go (PD110,
PD111)? Judged from ``facts["binaries"]["loader"]``: the GLIBC_/GLIBCXX_/CXXABI_ versions Paddle's
libraries need, the versions the libc.so.6/libstdc++.so.6 the loader would pick define, and the
DT_NEEDED libraries the loader would not find."""

from __future__ import annotations

import re

from ..model import Fix, Severity
from . import check, finding
from . import facts as F


def version_key(name: str) -> tuple:
    """GLIBCXX_3.4.30 -> ("GLIBCXX", (3, 4, 30)), for ordering within one family."""
    family, _, number = name.partition("_")
    return family, tuple(int(x) for x in re.findall(r"\d+", number))


def missing_versions(loader: dict) -> list[dict]:
    """[{file, path, how, missing: [versions], needed_by: [libs]}] for each needed file whose
    resolved copy does not define every version Paddle's libraries need from it."""
    out = []
    provided = loader.get("provided") or {}
    for file_, versions in sorted((loader.get("needs") or {}).items()):
        p = provided.get(file_)
        defines = p.get("defines") if isinstance(p, dict) else None
        if not isinstance(defines, list) or not defines:
            continue  # not found (PD111 says so) or defines no versions we know how to compare
        have = set(defines)
        families = {version_key(v)[0] for v in defines}
        lacking = sorted((v for v in versions if v not in have and version_key(v)[0] in families),
                         key=version_key)
        if lacking:
            by = sorted({lib for v in lacking for lib in versions[v]})
            newest = {fam: max((d for d in defines if version_key(d)[0] == fam), key=version_key)
                      for fam in sorted({version_key(v)[0] for v in lacking})}
            out.append({"file": file_, "path": p.get("path"), "real_path": p.get("real_path"),
                        "how": p.get("how"), "missing": lacking, "needed_by": by,
                        "newest_defined": newest})
    return out


def _runtime_fix(item: dict, facts) -> Fix:
    file_ = item["file"]
    conda = F.get(facts, "binaries", "loader", "conda_prefix")
    need = ", ".join(item["missing"])
    if file_.startswith("libstdc++"):
        if conda:
            return Fix(["conda install -y -c conda-forge libstdcxx-ng libgcc-ng"],
                       f"Inside conda, a newer libstdc++ that defines {need} goes into "
                       f"{conda}/lib; put that folder first (the environment's python finds it).")
        return Fix([], f"This libstdc++ ({item['path']}) defines up to "
                       f"{', '.join(item['newest_defined'].values())}. Use an OS image (or a "
                       f"container) whose libstdc++ defines {need}, or a Paddle release built for "
                       "this system; putting a newer libstdc++.so.6 first on LD_LIBRARY_PATH also works.")
    return Fix([], f"The C library ({item['path']}) defines up to "
                   f"{', '.join(item['newest_defined'].values())} and cannot be upgraded in place: use "
                   f"an OS image (or container) with glibc that defines {need}, or a Paddle release "
                   "built for this glibc.")


@check("paddle")
def host_runtime_new_enough(facts, options):
    loader = F.get(facts, "binaries", "loader")
    if not isinstance(loader, dict):
        return
    at_import = set(loader.get("loaded_at_import") or [])
    for item in missing_versions(loader):
        when_import = not at_import or any(lib in at_import for lib in item["needed_by"])
        first = item["missing"][-1]
        title = (f"import paddle would fail: {first} not found in {item['path']}"
                 if when_import else
                 f"{', '.join(item['needed_by'])} would fail to load: {first} not found in "
                 f"{item['path']}")
        yield finding("PD110", title,
                      {"library": item["file"], "found_at": item["path"], "found_by": item["how"],
                       "real_path": item["real_path"], "missing_versions": item["missing"],
                       "newest_defined": item["newest_defined"], "needed_by": item["needed_by"]},
                      _runtime_fix(item, facts),
                      severity=None if when_import else Severity.WARN)


@check("paddle")
def needed_libraries_found(facts, options):
    loader = F.get(facts, "binaries", "loader")
    if not isinstance(loader, dict):
        return
    for m in loader.get("missing_libraries") or []:
        name, by = m.get("name"), m.get("needed_by") or []
        at_import = m.get("at_import", True)
        title = (f"import paddle would fail: {name}, needed by {', '.join(by)}, is not found by the "
                 "loader" if at_import else
                 f"{', '.join(by)} would fail to load: {name} is not found by the loader")
        yield finding(
            "PD111", title,
            {"library": name, "needed_by": by, "searched": m.get("searched") or [],
             "at_import": at_import},
            Fix([], f"Install the system package that provides {name} (Debian/Ubuntu: "
                    f"`apt-file search {name}`; RHEL/CentOS: `dnf provides '*/{name}'`), or put the "
                    "folder that holds it on LD_LIBRARY_PATH."),
            severity=None if at_import else Severity.WARN)
