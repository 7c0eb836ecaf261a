"""Write the Chinese page of each finding code that has none yet (docs/codes/zh/PDnnn.md) (#17).

A written page is the short form: the code's title and area from the catalog (the same words the
doctor prints under ``--lang zh``), its severity, the commands of the English page's "How to fix"
section as they are (commands are never translated), and a pointer to the full English page.
A page someone has written by hand is never overwritten; a short page says it is the short form.

    python tools/zh_pages.py          # write the missing pages
    python tools/zh_pages.py --check  # exit 1 when a code has no zh page
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from paddledoctor import codes  # noqa: E402
from paddledoctor.i18n import tr  # noqa: E402

EN, ZH = ROOT / "docs" / "codes", ROOT / "docs" / "codes" / "zh"
SEVERITY = {"error": "错误", "warn": "警告", "info": "提示"}
SHORT = "<!-- short form, written by tools/zh_pages.py -->"


def fix_blocks(english: str) -> list[str]:
    """The fenced code blocks of the English page's fix section (## How to fix / ## Fix)."""
    part = re.search(r"^## (How to fix|Fix)[^\n]*\n(.*?)(?=^## |\Z)", english, re.M | re.S)
    return re.findall(r"```[a-z]*\n(.*?)```", part.group(2), re.S) if part else []


def short_page(entry) -> str:
    english = (EN / f"{entry.code}.md").read_text(encoding="utf-8")
    lines = [f"# {entry.code}: {tr(entry.title, 'zh')}", "",
             f"严重性：{SEVERITY[entry.severity.value]} · 领域：{tr(codes.AREA_TITLES.get(entry.area, entry.area), 'zh')}"
             f" · 起始版本：{entry.since}", ""]
    blocks = fix_blocks(english)
    if blocks:
        lines += ["## 修复方法", "", "按顺序运行（命令原样保留）：", ""]
        for block in blocks:
            lines += ["```sh", block.rstrip("\n"), "```", ""]
    lines += ["## 完整说明", "",
              f"检查内容、原因与示例见英文页面：`paddledoctor --lang en explain {entry.code}`"
              f"（docs/codes/{entry.code}.md）。`paddledoctor check` 的输出会给出适合本机的命令。", "", SHORT, ""]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    missing = [e for e in codes.CODES.values() if not (ZH / f"{e.code}.md").is_file()]
    if "--check" in argv:
        for e in missing:
            print(f"no zh page: {e.code}")
        return 1 if missing else 0
    ZH.mkdir(parents=True, exist_ok=True)
    for e in missing:
        (ZH / f"{e.code}.md").write_text(short_page(e), encoding="utf-8")
    print(f"wrote {len(missing)} page(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
