"""The inspect library: read the files, pair programs with their parameters and optimizer
states with their models, and judge them (see the package docstring)."""

from __future__ import annotations

import os
from typing import Iterable

from .reader import FileReading, read_file

MODEL_SUFFIXES = (".json", ".pdmodel")


def _program_for(path: str, readings: dict[str, FileReading]) -> FileReading | None:
    """The program file of a .pdiparams: one given on the command line with the same stem, else
    the sibling file on disk (X.json, then X.pdmodel)."""
    stem = os.path.splitext(path)[0]
    for suffix in MODEL_SUFFIXES:
        candidate = stem + suffix
        for given, reading in readings.items():
            if os.path.abspath(given) == os.path.abspath(candidate) and reading.facts.get("parameters") is not None:
                return reading
    for suffix in MODEL_SUFFIXES:
        candidate = stem + suffix
        if os.path.isfile(candidate):
            reading = read_file(candidate)
            if reading.facts.get("parameters") is not None:
                return reading
    return None


def inspect_facts(paths: Iterable[str], stats: bool = False, diff: bool = False) -> dict:
    """The facts of reading these files: {"files": [...], "options": ..., "diff": ...}."""
    paths = [str(p) for p in paths]
    readings: dict[str, FileReading] = {}
    ordered: list[FileReading] = []
    folders: list[dict] = []
    for path in paths:
        if os.path.isdir(path):  # a training job's checkpoint folder: each checkpoint's files
            from .folders import checkpoint_files, scan_folder
            folder = scan_folder(path)
            folders.append(folder)
            for member in checkpoint_files(folder):
                if member not in readings:
                    reading = read_file(member, with_stats=stats)
                    readings[member] = reading
                    ordered.append(reading)
            continue
        reading = read_file(path, with_stats=stats)
        readings.setdefault(path, reading)
        ordered.append(reading)
    for reading in ordered:
        facts = reading.facts
        if facts["format"] == "tensor-stream" and facts["tensors"]:
            program = _program_for(facts["path"], readings)
            if program is not None:
                from .reader import name_stream
                name_stream(reading, program.facts)
    for reading in ordered:  # a program: where its values are (inference vs static.save)
        facts = reading.facts
        if facts.get("parameters") is not None and facts.get("extension") in MODEL_SUFFIXES:
            stem = os.path.splitext(facts["path"])[0]
            facts["values_in"] = [os.path.basename(stem + ext) for ext in
                                  (".pdiparams", ".pdparams", ".pdopt") if os.path.isfile(stem + ext)]
    out: dict = {"files": [r.facts for r in ordered], "stats": stats}
    if folders:
        out["folders"] = folders
    if diff and len(ordered) == 2:
        from .diff import diff_readings
        out["diff"] = diff_readings(ordered[0], ordered[1])
    return out


def inspect(paths: Iterable[str], stats: bool = False, diff: bool = False):
    """Read the files and judge them: a Report (mode "inspect", area "checkpoint")."""
    from ..doctor import diagnose

    facts = {"inspect": inspect_facts(paths, stats=stats, diff=diff)}
    return diagnose(facts, {"stats": stats, "diff": diff}, mode="inspect", areas=["checkpoint"])
