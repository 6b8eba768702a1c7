"""The HTML report as a file: self-contained, escaped, aligned rows. (Rendering in a real browser
is issue 11's next step.)"""

import re
from html.parser import HTMLParser

import pytest

from conftest import SEED_A, SEED_B, run_cli
from dedup import find_duplicates, render


class Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.matches, self.sources = [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "data-match" in attrs:
            self.matches.append(attrs["data-match"])
        for name in ("src", "href"):
            if attrs.get(name) and not attrs[name].startswith("#"):
                self.sources.append(attrs[name])


def test_the_fixture_report_aligns_000_and_001_and_fetches_nothing(seeds):
    page = render(find_duplicates(seeds), "html", texts=seeds)
    parsed = Collect()
    parsed.feed(page)
    assert len(parsed.matches) >= 9 and all(re.fullmatch(r"\d+-\d+", m) for m in parsed.matches)
    assert parsed.sources == []  # nothing fetched: styles and script inline
    assert "<meta charset='utf-8'>" in page and SEED_A in page and SEED_B in page


def test_ids_and_texts_are_escaped():
    hostile = '<script>alert(1)</script> <img src=x onerror=alert(2)> "quotes" & \x00 اردو متن'
    text = f"{hostile} shared paragraph about the harbour and the ships that came in today."
    result = find_duplicates({"<b>a</b>": text, "b'\"": text + " More."})
    page = render(result, "html", texts={"<b>a</b>": text, "b'\"": text + " More."})
    parsed = Collect()
    parsed.feed(page)
    assert parsed.tags.count("script") == 1 and "img" not in parsed.tags and "b" not in parsed.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "\x00" not in page
    assert "dir='auto'" in page  # right-to-left text laid out by its own direction


def test_the_command_writes_html_by_suffix(tmp_path):
    out = tmp_path / "report.html"
    done = run_cli(str(__import__("pathlib").Path(__file__).parent.parent / "fixtures"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("data-match=") >= 9


def _browser():
    import os
    import shutil

    import pytest

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("DEDUP_REQUIRE_SERVICES"):
            pytest.fail("no chromium, and DEDUP_REQUIRE_SERVICES asks for the browser tests to run")
        pytest.skip("no chromium (apt-get install chromium); CI installs it")
    return found


def rendered(page_path, fragment=""):
    """The DOM after a real headless Chromium loaded the page and ran its script."""
    import subprocess

    done = subprocess.run(
        [_browser(), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", f"file://{page_path}{fragment}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout


@pytest.mark.slow
def test_in_a_browser_the_fixture_report_shows_aligned_rows_and_filters_by_id(tmp_path, seeds):
    path = tmp_path / "report.html"
    path.write_text(render(find_duplicates(seeds), "html", texts=seeds), encoding="utf-8")
    dom = rendered(path)
    assert len(re.findall(r'data-match="\d+-\d+"', dom)) >= 9 and SEED_A in dom and SEED_B in dom
    row = re.compile(r"<tr data-ids=[^>]*>")
    (shown,) = row.findall(rendered(path, f"#id={SEED_A}"))
    assert "hidden" not in shown
    (gone,) = row.findall(rendered(path, "#id=002_828ae448a2a84eb5.txt"))
    assert "hidden" in gone  # typing an id leaves only its pairs


@pytest.mark.slow
def test_in_a_browser_a_hostile_article_runs_nothing(tmp_path):
    hostile = "<script>document.title='pwned'</script> <img src=x onerror=\"document.title='pwned'\">"
    text = f"{hostile} A shared paragraph about the harbour and the ships that came in today, said the mayor."
    texts = {"one": text, "two": text + " And one more sentence."}
    path = tmp_path / "report.html"
    path.write_text(render(find_duplicates(texts), "html", texts=texts), encoding="utf-8")
    dom = rendered(path)
    assert "<title>dedup report" in dom and "pwned</title>" not in dom
    assert "<img" not in dom and "&lt;script&gt;document.title" in dom
