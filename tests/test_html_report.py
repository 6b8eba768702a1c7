"""The HTML report as a file: self-contained, escaped, aligned rows. (Rendering in a real browser
is issue 11's next step.)"""

import re
from html.parser import HTMLParser

from conftest import SEED_A, SEED_B, run_cli
from dedup import find_duplicates


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
    page = find_duplicates(seeds).to_html(seeds)
    parsed = Collect()
    parsed.feed(page)
    assert len(parsed.matches) >= 9 and all(re.fullmatch(r"\d+-\d+", m) for m in parsed.matches)
    assert parsed.sources == []  # nothing fetched: styles and script inline
    assert "<meta charset='utf-8'>" in page and SEED_A in page and SEED_B in page


def test_ids_and_texts_are_escaped():
    hostile = '<script>alert(1)</script> <img src=x onerror=alert(2)> "quotes" & \x00 اردو متن'
    text = f"{hostile} shared paragraph about the harbour and the ships that came in today."
    result = find_duplicates({"<b>a</b>": text, "b'\"": text + " More."})
    page = result.to_html({"<b>a</b>": text, "b'\"": text + " More."})
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
