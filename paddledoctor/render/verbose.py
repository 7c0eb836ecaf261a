"""`check -v`: the facts behind each area line, as short ``path: value`` lines (the full facts are
in ``--json``)."""

from __future__ import annotations

import json

from ..model import Unavailable, encode

# area -> the fact paths its line is made from
AREA_FACTS = {
    "host": [("host", "os"), ("host", "python"), ("host", "cpu"), ("host", "memory"),
             ("host", "shm"), ("host", "disk"), ("environment", "container"),
             ("environment", "wsl"), ("environment", "conda")],
    "paddle": [("paddle", "location"), ("paddle", "version_file", "full_version"),
               ("paddle", "version_file", "cuda_version"), ("paddle", "version_file", "cudnn_version"),
               ("distributions", "paddle_providers"), ("stack", "distributions")],
    "gpu": [("nvml",)],
    "cuda": [("binaries", "build"), ("cuda_libs",)],
    "ops": [("runtime",)],
    "requirements": [("checkpoint_dir",)],
    "bench": [("bench",)],
}
MAX_LINES = 14
MAX_VALUE = 140


def _leaves(node, path: str, out: list) -> None:
    if isinstance(node, Unavailable):
        out.append((path, f"unavailable: {node.reason}"))
    elif isinstance(node, dict) and node:
        if path.endswith("stack.distributions"):  # one line per distribution: name version (why)
            for name, d in node.items():
                if isinstance(d, dict):
                    out.append((f"{path}.{name}", f"{d.get('version')} ({d.get('why')})"))
            return
        for k, v in node.items():
            _leaves(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(node, list) and any(isinstance(v, (dict, list)) for v in node):
        for i, v in enumerate(node):
            _leaves(v, f"{path}[{i}]", out)
    else:
        value = node if isinstance(node, str) else json.dumps(encode(node))
        out.append((path, value))


def facts_lines(facts: dict, area: str) -> list[str]:
    out: list = []
    for path in AREA_FACTS.get(area, []):
        node = facts
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            _leaves(node, ".".join(path), out)
    lines = []
    for p, v in out[:MAX_LINES]:
        v = v if len(v) <= MAX_VALUE else v[:MAX_VALUE - 1] + "…"
        lines.append(f"{p}: {v}")
    if len(out) > MAX_LINES:
        lines.append(f"… {len(out) - MAX_LINES} more (check --json has every fact)")
    return lines
