"""The repository stands alone: what it cites is inside it, and no path is one machine's."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Generated or local folders (the ignored ones of .gitignore), not the repository's text.
SKIPPED_DIRS = {".git", ".venv", "node_modules", "test-artifacts", ".pytest-tmp", "results",
                ".pytest_cache", ".ruff_cache", ".mypy_cache", ".hypothesis", "__pycache__"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".sh", ".cfg", ".ini", ".html", ".js", ".css",
                 ".example", ".txt", ".yml", ".yaml", ".mako"}
# A markdown link's target, and a document named in prose or a comment.
LINK = re.compile(r"\]\(([^)\s]+)\)")
DOCUMENT = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.md)\b")
# Built from parts so that this file does not match itself.
MACHINE_PATH = re.compile("(?<![\\w.])/(?:" + "|".join(["wo" + "rk", "ro" + "ot", "ho" + "me"])
                          + ")/")


def _text_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if path.is_file() and (path.suffix in TEXT_SUFFIXES or relative.parts[0] == ".ci"):
            found.append(path)
    return found


FILES = _text_files()


def _inside(path: Path) -> bool:
    return path.resolve().is_relative_to(ROOT)


@pytest.mark.parametrize("path", [p for p in FILES if p.suffix == ".md"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_markdown_links_lead_to_files_inside_the_repository(path: Path) -> None:
    targets = [t.split("#")[0] for t in LINK.findall(path.read_text())
               if not re.match(r"[a-z]+:|#", t)]
    broken = [t for t in targets if not (_inside(path.parent / t) and (path.parent / t).exists())]
    assert broken == []


def test_every_document_cited_is_one_of_the_repositorys_own() -> None:
    """A comment citing "platforms.md" means docs/platforms.md; nothing may cite a
    document that only exists outside the repository."""
    missing = []
    for path in FILES:
        for name in DOCUMENT.findall(path.read_text(errors="replace")):
            candidates = [ROOT / name, ROOT / "docs" / name, path.parent / name]
            if not any(_inside(c) and c.exists() for c in candidates):
                missing.append(f"{path.relative_to(ROOT)}: {name}")
    assert missing == []


def test_no_file_names_a_path_of_one_machine() -> None:
    found = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in FILES
             for match in MACHINE_PATH.finditer(path.read_text(errors="replace"))]
    assert found == []
