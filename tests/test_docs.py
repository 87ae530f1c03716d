"""The README stays a short door and the docs site the house: the README is short,
undated and its links resolve, its config example runs, every docs page is in the
navigation, and the site builds with ``mkdocs build --strict``, offline."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MAX_README_LINES = 300
ISO_DATE = re.compile(r"20\d\d-\d\d-\d\d")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def _pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))


def _relative_links(text: str) -> list[str]:
    """Markdown link targets outside code blocks that point into the repository."""
    targets = LINK.findall(FENCE.sub("", text))
    return [t for t in targets if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", t, re.IGNORECASE)]


def _nav_files(node: object) -> list[str]:
    """Every page a mkdocs ``nav`` names, however deeply nested."""
    if isinstance(node, str):
        return [] if re.match(r"^[a-z][a-z0-9+.-]*://", node) else [node]
    if isinstance(node, list):
        return [f for item in node for f in _nav_files(item)]
    if isinstance(node, dict):
        return [f for value in node.values() for f in _nav_files(value)]
    return []


def _mkdocs_config() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def test_readme_is_at_most_300_lines():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, (
        f"README.md has {len(lines)} lines (at most {MAX_README_LINES}): move detail to docs/"
    )


def test_readme_carries_no_dated_measurement():
    dates = ISO_DATE.findall(README.read_text())
    assert dates == [], f"README.md holds dates {dates}: dated figures belong in docs/performance/"


@pytest.mark.parametrize("path", [README, *_pages()], ids=lambda p: str(Path(p).relative_to(ROOT)))
def test_no_page_points_outside_the_repository(path):
    text = path.read_text()
    assert "shared/reference" not in text
    assert "../shared/" not in text


def test_every_relative_link_in_the_readme_exists():
    links = _relative_links(README.read_text())
    assert links, "no relative link found: the README should link the docs pages"
    missing = [t for t in links if not (ROOT / t.split("#", 1)[0]).exists()]
    assert missing == [], f"README.md links to missing files: {missing}"


def test_the_readme_links_every_docs_page_of_the_nav():
    linked = {t.split("#", 1)[0] for t in _relative_links(README.read_text())}
    top = {f"docs/{f}" for f in _nav_files(_mkdocs_config()["nav"]) if "/" not in f}
    unlinked = top - linked - {"docs/changelog.md"}  # the README links CHANGELOG.md
    assert unlinked == set(), f"docs pages the README does not link: {sorted(unlinked)}"


def test_every_docs_page_is_in_the_nav():
    nav = set(_nav_files(_mkdocs_config()["nav"]))
    pages = {p.relative_to(DOCS).as_posix() for p in _pages()}
    assert pages - nav == set(), f"pages missing from mkdocs.yml's nav: {sorted(pages - nav)}"


def test_every_nav_entry_is_a_page():
    nav = set(_nav_files(_mkdocs_config()["nav"]))
    missing = sorted(f for f in nav if not (DOCS / f).is_file())
    assert missing == [], f"mkdocs.yml's nav names missing pages: {missing}"


def test_the_site_is_strict_and_offline_by_configuration():
    cfg = _mkdocs_config()
    assert cfg["strict"] is True
    assert cfg["theme"]["name"] == "material"
    assert cfg["theme"]["font"] is False, "font: false, or Material fetches Google Fonts"


def test_the_readme_config_example_runs_as_written():
    """The example's datasets exist and are usable: a name with too few minority rows
    or a file that is not there stops `imbench run` before compute."""
    from imbench.datasets import check_datasets
    from imbench.resolve import build_config

    section = README.read_text().split("## A sweep of your own", 1)[1]
    example = section.split("```toml", 1)[1].split("```", 1)[0]
    cfg = build_config(tomllib.loads(example))
    check_datasets(cfg.datasets, min_minority=cfg.protocol.min_minority)


def _mkdocs_missing() -> str | None:
    if shutil.which("mkdocs") is None or importlib.util.find_spec("mkdocs") is None:
        return "mkdocs is not installed (pip install 'mkdocs>=1.6' 'mkdocs-material>=9.5')"
    if importlib.util.find_spec("material") is None:
        return "mkdocs-material is not installed (pip install 'mkdocs-material>=9.5')"
    return None


def test_the_docs_build_strict(tmp_path):
    missing = _mkdocs_missing()
    if missing:
        if os.environ.get("IMBENCH_REQUIRE_DOCS") == "1":
            pytest.fail(f"IMBENCH_REQUIRE_DOCS=1 but {missing}")
        pytest.skip(missing)
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stderr, done.stderr
    assert (site / "index.html").is_file()
    fetched = re.compile(r"<(?:link|script|img)\b[^>]*(?:href|src)=\"(?:https?:)?//", re.I)
    online = [p.name for p in site.rglob("*.html") if fetched.search(p.read_text())]
    assert online == [], f"pages that fetch from the network: {online}"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sweep", "page"),
    [("reference", "reference-findings.md"), ("field", "field-findings.md"),
     ("gbdt_field", "gbdt-field-findings.md"), ("variants", "variants-findings.md")],
)  # fmt: skip
def test_a_findings_page_is_what_imbench_findings_writes(tmp_path, sweep, page):
    committed = (ROOT / "docs" / page).read_text().splitlines()
    done = subprocess.run(
        [sys.executable, "-m", "imbench.cli", "findings", sweep, "--out", "results",
         "-o", str(tmp_path / "page.md")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    fresh = (tmp_path / "page.md").read_text().splitlines()
    assert committed[2] == (
        f"Generated from `results/{sweep}` by `imbench findings {sweep} --out results "
        f"-o docs/{page}`."
    )
    assert committed[:2] + committed[3:] == fresh[:2] + fresh[3:]
