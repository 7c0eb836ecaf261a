"""Carries the finding-code pages (docs/codes/*.md, docs/codes/zh/*.md) into the wheel as paddledoctor/_pages, so that
`paddledoctor explain PDnnn` works from an installed wheel, not only from a source checkout."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithPages(build_py):
    def run(self):
        super().run()
        source = Path(__file__).resolve().parent / "docs" / "codes"
        target = Path(self.build_lib, "paddledoctor", "_pages")
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            for page in source.glob("PD*.md"):
                shutil.copyfile(page, target / page.name)
            for page in source.glob("*/PD*.md"):  # a language's pages: docs/codes/zh/PD101.md
                (target / page.parent.name).mkdir(exist_ok=True)
                shutil.copyfile(page, target / page.parent.name / page.name)


setup(cmdclass={"build_py": BuildPyWithPages})
