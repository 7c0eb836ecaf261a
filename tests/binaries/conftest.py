"""The binaries tests import the synthesized writer from this folder, and never write the user's
real cache folder."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _own_cache_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("PADDLEDOCTOR_CACHE_DIR", str(tmp_path / "cache"))
