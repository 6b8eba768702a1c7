import random

import numpy as np

from dedup import find_duplicates
from dedup.boilerplate import find_boilerplate
from dedup.shingles import sequence_hash, tokenize

FOOTER = (
    "Copyright 2019 Example Media Group. All rights reserved. This material may not be published, "
    "broadcast, rewritten or redistributed without the written permission of Example Media Group."
    "\n\nSubscribe to our newsletter to get the day's top stories from Example Media every morning, "
    "and follow us on social media for breaking news alerts as they happen around the world."
)
TOPICS = [
    "The city council approved a new budget for road repairs after a long debate on Tuesday evening.",
    "Heavy rain flooded several villages in the north, and rescue teams evacuated hundreds of residents.",
    "A local football club signed a young striker from the regional academy on a three-year contract.",
    "Scientists at the university published a study on the migration routes of coastal birds this spring.",
    "The central bank left interest rates unchanged and said inflation was slowing faster than expected.",
    "A museum reopened its ancient history wing after five years of renovation and new acquisitions.",
]


VOCABULARY = (
    "minister council river harbour election vaccine festival drought tariff stadium railway "
    "court orchestra satellite factory refugee glacier senate bakery pipeline museum protest "
    "airline harvest volcano bridge startup union library ferry"
).split()


def body(n: int) -> str:
    """An article of its own: its topic sentence and three paragraphs of words drawn for it."""
    rng = random.Random(n)
    own = [" ".join(rng.choice(VOCABULARY) for _ in range(18)) + "." for _ in range(3)]
    return "\n\n".join([TOPICS[n], *own])


def test_articles_sharing_only_a_long_footer_are_not_duplicates():
    articles = {f"site/{n}": f"{body(n)}\n\n{FOOTER}" for n in range(len(TOPICS))}
    result = find_duplicates(articles)
    assert result.pairs == ()
    assert result.summary["boilerplate_lines"] == 2


def test_footer_does_not_count_toward_coverage_of_a_real_copy():
    articles = {f"site/{n}": f"{body(n)}\n\n{FOOTER}" for n in range(len(TOPICS))}
    articles["copy/a"] = f"{body(0)}\n\n{FOOTER}"
    articles["copy/b"] = f"{body(0)}\n\nAn extra closing paragraph written only by this outlet today."
    result = find_duplicates(articles)
    pair = next(p for p in result.pairs if (p.a, p.b) == ("copy/a", "copy/b"))
    assert pair.coverage_a_by_b == 1.0  # a's footer paragraphs are ignored, the rest is in b
    assert len(pair.alignment.ignored_a) == 2
    assert pair.kind == "near_duplicate"


def test_a_wire_story_republished_many_times_is_not_boilerplate():
    story = "\n\n".join(TOPICS)
    articles = {f"outlet{n}": f"Outlet {n} headline number {n} for today\n\n{story}" for n in range(8)}
    result = find_duplicates(articles)
    assert result.summary["boilerplate_lines"] == 0
    assert len(result.clusters) == 1
    assert len(result.clusters[0].members) == 8


def boilerplate_of(line_sets, min_docs=5):
    rows, hashes, chars = [], [], []
    for row, lines in enumerate(line_sets):
        for line in sorted(lines):
            rows.append(row)
            hashes.append(sequence_hash(tokenize(line)))
            chars.append(len(line))
    found = find_boilerplate(
        np.array(rows), np.array(hashes, dtype=np.uint64), np.array(chars, dtype=np.uint32), min_docs=min_docs
    )
    return {line for lines in line_sets for line in lines if sequence_hash(tokenize(line)) in found}


def test_rare_lines_are_never_boilerplate():
    lines = [{"loading...", f"the main text of story number {n}"} for n in range(5)]
    assert boilerplate_of(lines[:4]) == set()
    assert boilerplate_of(lines) == {"loading..."}


def test_documented_limit_footer_longer_than_the_articles_is_kept():
    # Four-sentence footer around one-sentence briefs: indistinguishable from a republished story.
    lines = [{f"brief {n}", "a very long footer line " * 10} for n in range(6)]
    assert boilerplate_of(lines) == set()
