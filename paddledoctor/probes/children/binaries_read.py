"""Child probe: the fatbin archs and loader facts of shared libraries, read from their headers.

Run as ``python binaries_read.py FD PATH...``; writes one JSON line per file to file descriptor FD:
{"event": "file", "path": ..., "facts": {...}} or {"event": "file", "path": ..., "error": "..."}.
It runs in a child because the files can be large (libphi.so of 2.6.2 is 1.9 GB) and on a slow or
network disk a read may take long: the parent's deadline kills it, and the files answered before
that are kept. It imports only the doctor's ELF and fatbin readers (standard library).
"""

import os
import sys

from _channel import emit  # _start.py puts the channel's folder on sys.path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))

from paddledoctor.probes.binaries import read_file_facts  # noqa: E402

for path in sys.argv[2:]:
    try:
        emit("file", path=path, facts=read_file_facts(path))
    except Exception as exc:  # noqa: BLE001 - one broken file is that file's error, not the probe's
        emit("file", path=path, error=f"{type(exc).__name__}: {exc}")
