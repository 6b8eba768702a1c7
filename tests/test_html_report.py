"""The HTML report: self-contained, escaped, and in a real headless Chromium: aligned rows drawn
from the embedded data, search, who reused whom, groups linked to their pairs."""

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


def embedded(page):
    """The pairs' side-by-side data the page carries."""
    import json

    return json.loads(
        re.search(r"<script type='application/json' id='pair-data'>(.*?)</script>", page, re.S)[1]
    )


def test_the_fixture_report_aligns_000_and_001_and_fetches_nothing(seeds):
    page = render(find_duplicates(seeds), "html", texts=seeds)
    parsed = Collect()
    parsed.feed(page)
    rows = embedded(page)["pair-1"]
    assert sum(1 for kind, a, b in rows if kind == "match" and a and b) >= 9
    assert parsed.sources == []  # nothing fetched: styles, script and data inline
    assert "<meta charset='utf-8'>" in page and SEED_A in page and SEED_B in page


def test_ids_and_texts_are_escaped():
    hostile = '<script>alert(1)</script> <img src=x onerror=alert(2)> "quotes" & \x00 اردو متن'
    text = f"{hostile} shared paragraph about the harbour and the ships that came in today."
    result = find_duplicates({"<b>a</b>": text, "b'\"": text + " More."})
    page = render(result, "html", texts={"<b>a</b>": text, "b'\"": text + " More."})
    parsed = Collect()
    parsed.feed(page)
    assert parsed.tags.count("script") == 2 and "img" not in parsed.tags and "b" not in parsed.tags
    assert "\x00" not in page and "</script> <img" not in page  # the data cannot close its script
    assert "dir='auto'" in page  # right-to-left text laid out by its own direction


def test_the_command_writes_html_by_suffix(tmp_path):
    out = tmp_path / "report.html"
    done = run_cli(str(__import__("pathlib").Path(__file__).parent.parent / "fixtures"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and len(embedded(page)["pair-1"]) >= 9


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
    row = re.compile(r"<tr data-search=[^>]*>")
    (shown,) = row.findall(rendered(path, f"#id={SEED_A}"))
    assert "hidden" not in shown
    (gone,) = row.findall(rendered(path, "#id=002_828ae448a2a84eb5.txt"))
    assert "hidden" in gone  # searching for an id leaves only its pairs


@pytest.mark.slow
def test_in_a_browser_a_hostile_article_runs_nothing(tmp_path):
    hostile = "<script>document.title='pwned'</script> <img src=x onerror=\"document.title='pwned'\">"
    text = f"{hostile} A shared paragraph about the harbour and the ships that came in today, said the mayor."
    texts = {"one": text, "two": text + " And one more sentence."}
    path = tmp_path / "report.html"
    path.write_text(render(find_duplicates(texts), "html", texts=texts), encoding="utf-8")
    dom = rendered(path)
    assert "<title>dedup report" in dom and "pwned</title>" not in dom
    assert "<img" not in dom and "&lt;script&gt;document.title" in dom  # drawn as text by the script


def analyst_corpus():
    """A wire story taken by two papers a day later (one adds a paragraph), an unrelated story,
    and hostile metadata: a right-to-left override in an id and a title, a javascript: url, a very long id."""
    wire = ("The port authority said on Monday that container traffic rose sharply in the third quarter. "
            "Officials expect the new terminal to open next spring after delays caused by the storms.\n\n"
            "Dock workers welcomed the news but warned that staffing remains a concern for the unions.")  # fmt: skip
    long_id = "x" * 5000
    texts = {"wire-1": wire, "daily-7": wire, "post-3": wire + "\n\nLocal shops expect more trade from the port in the months ahead, the chamber said."
             "\n\nThe mayor said the town would benefit for years, and the council plans new roads to the docks.",
             "invoice\u202egpj.exe": "A completely different story about the town council and its new budget for roads.",
             long_id: "Another story entirely, about a football match played in heavy rain on Saturday night."}  # fmt: skip
    meta = {
        "wire-1": {"title": "Port traffic rises", "outlet": "Wire", "date": "2024-03-01", "url": "https://wire.example/1"},
        "daily-7": {"title": "Port traffic up", "outlet": "Daily", "date": "2024-03-02", "url": "javascript:alert(1)"},
        "post-3": {"title": "Harbour boom \u202eevil", "outlet": "Post", "date": "2024-03-02"},
        "invoice\u202egpj.exe": {"title": "Budget", "outlet": "Post", "date": "2024-03-05"},
        long_id: {"title": "Match", "outlet": "Daily", "date": "2024-03-06"},
    }  # fmt: skip
    from dedup import Article

    return texts, [Article(i, t, meta[i]) for i, t in texts.items()]


def test_the_analyst_view_shows_titles_direction_outlets_and_no_hostile_characters():
    texts, articles = analyst_corpus()
    page = render(find_duplicates(articles), "html", texts=texts)
    assert "\u202e" not in page and "Harbour boom \\u202eevil" in page  # shown escaped, never applied
    assert "Port traffic rises" in page and "wire-1</span> first (2024-03-01)" in page
    assert (
        "href='https://wire.example/1'" in page
        and "javascript:" not in page.split("<script>")[0].split("pair-data")[0]
    )
    assert (
        re.search(r"is inside", page)
        and "id='outlets'" in page
        and "x" * 61 not in page.split("pair-data")[0]
    )


@pytest.mark.slow
def test_in_a_browser_the_analyst_view_searches_opens_pairs_and_links_groups(tmp_path):
    texts, articles = analyst_corpus()
    path = tmp_path / "report.html"
    path.write_text(render(find_duplicates(articles), "html", texts=texts), encoding="utf-8")
    dom = rendered(path, "#id=daily")
    rows = re.findall(r"<tr data-search=\"([^\"]*)\"[^>]*?(hidden=\"\")?>", dom)
    assert rows and all(("daily" in words) != bool(hidden) for words, hidden in rows)
    outlets = re.search(r"<table id=\"outlets\">.*?</table>", dom, re.S)[0]
    assert "Daily" in outlets and "Wire" in outlets
    assert re.search(r'<details id="group-1"[^>]*>.*?href="#pair-\d+"', dom, re.S)  # a group links its pairs
    assert re.search(r'href="#group-1"', dom)  # and its pairs link back
