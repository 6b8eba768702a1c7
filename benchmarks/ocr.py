"""Scanned newspapers: stories republished by many papers, every printed copy OCR'd on its own.

The corpus (:func:`build_stories`): real BBC News articles (from the shared data folder) are the
wire stories. Each is printed by 2-13 of 24 papers, each copy edited as syndication edits: the
tail trimmed, a paragraph dropped, a local note added (a sentence of an unrelated article, used once), the headline reworded, a few words
changed. Every paper sets its copy in its own column width, breaking long words at line ends with a
hyphen, and adds its masthead and its publisher's footer (the same lines in every article it
prints: boilerplate that OCR spells differently every time). Stories are chosen so that dedup links
none of their clean originals to another.

The noise model (:func:`ocr_noise`), applied independently to every copy with a character error rate
drawn uniformly from the band's range, per character that is not a line break:

* 45% glyph confusions — ``m``↔``rn``, ``l``↔``1``↔``I``, ``e``↔``c``, ``d``→``cl``, ``o``↔``0``,
  ``h``→``b``/``li``, ``n``↔``u``, ``a``→``o``, ``i``→``l``, ``t``↔``f``, ``S``→``5``, ``B``→``8``,
  ``w``→``vv``, ``y``↔``v``, ``,``↔``.`` (another letter where the character has none);
* 20% dropped characters; 15% stray marks inserted (``. , ' ` - : ;``); 10% a letter replaced by
  a random one; 10% a lost space (words run together) where the character is a space, else dropped.

The realised rate (Levenshtein distance to the clean copy over its length) is reported per band.

    python benchmarks/ocr.py --data ../shared/data              # every band, a few minutes
    python benchmarks/ocr.py --stories 60 --bands 1-3           # a small run
"""

from __future__ import annotations

import argparse
import glob
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from datasketch import MinHash, MinHashLSH
from rapidfuzz.distance import Levenshtein

from dedup import DedupConfig, DedupResult, find_duplicates
from dedup.paragraphs import split_sentences

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data"
BANDS = {"0": (0.0, 0.0), "0-1": (0.0, 0.01), "1-3": (0.01, 0.03), "3-6": (0.03, 0.06)}

CONFUSIONS = {
    "m": ["rn"], "l": ["1", "I"], "1": ["l"], "I": ["l", "1"], "e": ["c"], "c": ["e"], "d": ["cl"],
    "o": ["0"], "0": ["o"], "h": ["b", "li"], "n": ["u"], "u": ["n"], "a": ["o"], "i": ["l"],
    "t": ["f"], "f": ["t"], "S": ["5"], "B": ["8"], "O": ["0"], "w": ["vv"], "y": ["v"], "v": ["y"],
    ",": ["."], ".": [","],
}  # fmt: skip
STRAY = ".,'`-:;"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
PAPERS = [
    f"{town} {kind}"
    for town, kind in zip(
        ["Springfield", "Riverton", "Ashford", "Fairview", "Millbrook", "Oakdale", "Kingsport", "Bayville",
         "Clayton", "Dover", "Elmwood", "Franklin", "Glenwood", "Hartley", "Irvington", "Jasper",
         "Lakeside", "Marion", "Newbury", "Oxford", "Plainfield", "Quincy", "Salem", "Trenton"],
        ["Herald", "Gazette", "Courier", "Tribune", "Daily News", "Evening Star", "Chronicle", "Sentinel"] * 3,
        strict=True,
    )
]  # fmt: skip


def ocr_noise(text: str, cer: float, rng: random.Random) -> str:
    """``text`` as a scan recognised at character error rate ``cer`` (see the module docstring)."""
    out: list[str] = []
    for char in text:
        if char == "\n" or rng.random() >= cer:
            out.append(char)
            continue
        kind = rng.random()
        if kind < 0.45:
            out.append(rng.choice(CONFUSIONS[char]) if char in CONFUSIONS else rng.choice(LETTERS))
        elif kind < 0.65:
            continue
        elif kind < 0.80:
            out.append(rng.choice(STRAY) + char)
        elif kind < 0.90:
            out.append(rng.choice(LETTERS) if char.isalpha() else char)
        # else: a lost space (or a dropped character)
    return "".join(out)


def set_in_columns(paragraphs: list[str], width: int) -> str:
    """Paragraphs wrapped at ``width`` characters, long words broken at line ends with a hyphen."""
    blocks = []
    for paragraph in paragraphs:
        lines, line = [], ""
        for word in paragraph.split():
            room = width - len(line) - (1 if line else 0)
            if len(word) <= room:
                line = f"{line} {word}" if line else word
                continue
            if room >= 4 and len(word) >= 7 and word.isalpha():  # break it: "infor-" / "mation"
                cut = min(room - 1, len(word) - 3)
                lines.append(f"{line} {word[:cut]}-" if line else f"{word[:cut]}-")
                line = word[cut:]
            else:
                lines.append(line)
                line = word
        lines.append(line)
        blocks.append("\n".join(x for x in lines if x))
    return "\n\n".join(blocks)


def paper_furniture(paper: str) -> tuple[str, str]:
    """A paper's masthead and its publisher's footer (the same in every article it prints)."""
    street = sum(map(ord, paper)) % 90 + 10
    return (
        f"THE {paper.upper()}",
        f"Published every morning except Sunday by the {paper} Printing Company, {street} Main "
        f"Street. Subscriptions ten cents a week, five dollars a year, payable in advance.",
    )


def syndicated_copy(rng: random.Random, title: str, body: list[str], local: list[str]) -> list[str]:
    """One paper's edit of a wire story: tail trimmed, a paragraph dropped, a local note added,
    words changed."""
    copy = list(body)
    if len(copy) > 4 and rng.random() < 0.5:
        copy = copy[: max(3, len(copy) - rng.randint(1, 3))]
    if len(copy) > 3 and rng.random() < 0.3:
        del copy[rng.randrange(1, len(copy))]
    if rng.random() < 0.2 and local:  # a local note, printed by this paper only
        copy.insert(rng.randrange(1, len(copy) + 1), local.pop())
    for _ in range(2):
        index = rng.randrange(len(copy))
        words = copy[index].split()
        words[rng.randrange(len(words))] = rng.choice(["also", "then", "now", "still", "only"])
        copy[index] = " ".join(words)
    if rng.random() < 0.5:
        title = f"{rng.choice(['News:', 'Latest:', 'Special:', 'Wire:'])} {title}"
    return [title, *copy]


def read_sources(data: Path) -> list[tuple[str, list[str]]]:
    """(title, body paragraphs) of every distinct BBC News article."""
    seen, sources = set(), []
    for path in sorted(glob.glob(str(data / "bbc_news" / "*" / "*.txt"))):
        text = Path(path).read_bytes().decode("utf-8", errors="replace")
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]
        key = " ".join(text.split())
        if len(paragraphs) >= 5 and key not in seen:
            seen.add(key)
            sources.append((paragraphs[0], paragraphs[1:]))
    return sources


def build_stories(data: Path, stories: int, seed: int = 0) -> tuple[list[tuple[str, list[str], str]], int]:
    """``(story, paragraphs, paper)`` of every copy, and how many chosen stories were set aside
    because dedup links their clean originals to another chosen one."""
    rng = random.Random(seed)
    sources = read_sources(data)
    rng.shuffle(sources)
    chosen, local = sources[: int(stories * 1.2)], sources[-300:]
    linked = find_duplicates({i: "\n\n".join([t, *b]) for i, (t, b) in enumerate(chosen)})
    dropped = {p.b for p in linked.pairs}
    chosen = [s for i, s in enumerate(chosen) if i not in dropped][:stories]
    local_paragraphs = [
        s for _, body in local for p in body for s in split_sentences(p) if 60 <= len(s) <= 250
    ]
    rng.shuffle(local_paragraphs)
    copies = []
    for story, (title, body) in enumerate(chosen):
        for paper in rng.sample(PAPERS, rng.randint(2, 13)):
            copies.append((f"s{story:03d}", syndicated_copy(rng, title, body, local_paragraphs), paper))
    return copies, len(dropped)


def printed(
    copies: list[tuple[str, list[str], str]], band: tuple[float, float], seed: int
) -> tuple[dict[str, str], dict[str, str], float]:
    """Every copy set in its paper's columns and OCR'd: texts by id, story by id, realised CER."""
    rng = random.Random(seed)
    texts, story_of, errors, chars = {}, {}, 0, 0
    for number, (story, paragraphs, paper) in enumerate(copies):
        masthead, footer = paper_furniture(paper)
        width = 34 + PAPERS.index(paper) % 12
        clean = masthead + "\n\n" + set_in_columns([*paragraphs, footer], width)
        noisy = ocr_noise(clean, rng.uniform(*band), rng)
        errors += Levenshtein.distance(clean, noisy)
        chars += len(clean)
        article = f"{story}/{number:04d}"
        texts[article], story_of[article] = noisy, story
    return texts, story_of, round(errors / max(chars, 1), 4)


def mixed(
    copies: list[tuple[str, list[str], str]], seed: int
) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """Half the copies born-digital (paragraphs as lines, no columns, no noise), half printed
    and OCR'd at 1-3%, alternately: texts, story by id, the born-digital ids."""
    ocr_texts, story_of, _ = printed(copies, BANDS["1-3"], seed)
    digital = set()
    for number, (story, paragraphs, paper) in enumerate(copies):
        if number % 2 == 0:
            masthead, footer = paper_furniture(paper)
            article = f"{story}/{number:04d}"
            ocr_texts[article] = "\n\n".join([masthead, *paragraphs, footer])
            digital.add(article)
    return ocr_texts, story_of, digital


def measure_mixed(copies: list[tuple[str, list[str], str]]) -> list[dict[str, Any]]:
    """One default run over the mixed collection, each half scored on its own articles, against
    default runs over each half alone."""
    texts, story_of, digital = mixed(copies, seed=hash_band("mixed"))
    halves = {"born-digital half": digital, "OCR'd half (1-3%)": set(texts) - digital}
    together = dedup_links(find_duplicates(texts))
    rows = []
    for name, ids in halves.items():
        alone = dedup_links(find_duplicates({k: texts[k] for k in ids}))
        row: dict[str, Any] = {"half": name, "articles": len(ids)}
        for label, (pairs, groups) in (("alone", alone), ("in the mixed run", together)):
            inside = {p for p in pairs if p <= ids}
            row[label] = score(
                {k: story_of[k] for k in ids}, inside, [[m for m in g if m in ids] for g in groups]
            )
        rows.append(row)
    return rows


# ----------------------------------------------------------------------------- scoring


def lsh_groups(docs: dict[str, str], threshold: float) -> list[list[str]]:
    """Plain datasketch MinHashLSH over word 5-shingles (lower-cased, split on whitespace), union-find."""
    ids = sorted(docs)
    sets = []
    for article in ids:
        words = docs[article].lower().split()
        sets.append({" ".join(words[i : i + 5]).encode() for i in range(max(1, len(words) - 4))})
    minhashes = MinHash.bulk(sets, num_perm=128)
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    for article, minhash in zip(ids, minhashes, strict=True):
        lsh.insert(article, minhash)
    parent = {a: a for a in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for article, minhash in zip(ids, minhashes, strict=True):
        for other in lsh.query(minhash):
            rx, ry = find(article), find(other)
            if rx != ry:
                parent[max(rx, ry)] = min(rx, ry)
    groups: dict[str, list[str]] = defaultdict(list)
    for article in ids:
        groups[find(article)].append(article)
    return list(groups.values())


def group_pairs(groups: Iterable[list[str]]) -> set[frozenset[str]]:
    return {frozenset((x, y)) for g in groups for i, x in enumerate(g) for y in g[i + 1 :]}


def adjusted_rand_index(labels: dict[str, str], predicted: dict[str, str]) -> float:
    """ARI of two labellings of the same items (Hubert and Arabie)."""

    def pairs(n: int) -> float:
        return n * (n - 1) / 2

    both = Counter((labels[x], predicted[x]) for x in labels)
    index = sum(pairs(n) for n in both.values())
    rows = sum(pairs(n) for n in Counter(labels.values()).values())
    cols = sum(pairs(n) for n in Counter(predicted.values()).values())
    expected = rows * cols / pairs(len(labels))
    top = (rows + cols) / 2
    return round((index - expected) / (top - expected), 4) if top != expected else 1.0


def score(story_of: dict[str, str], pairs: set[frozenset[str]], groups: list[list[str]]) -> dict[str, Any]:
    """Pair precision / recall / F1 against the stories, ARI of the groups (others: singletons)."""
    truth = group_pairs(defaultdict(list, _members(story_of)).values())
    true_positive = len(pairs & truth)
    precision = true_positive / len(pairs) if pairs else 1.0
    recall = true_positive / len(truth)
    predicted = {a: a for a in story_of}
    for group in groups:
        for member in group:
            predicted[member] = group[0]
    return {
        "pair F1": round(2 * precision * recall / (precision + recall), 4) if true_positive else 0.0,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "ARI": adjusted_rand_index(story_of, predicted),
        "false pairs": len(pairs - truth),
    }


def _members(story_of: dict[str, str]) -> dict[str, list[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for article, story in sorted(story_of.items()):
        members[story].append(article)
    return members


def dedup_links(result: DedupResult) -> tuple[set[frozenset[str]], list[list[str]]]:
    pairs = {frozenset((str(p.a), str(p.b))) for p in result.pairs}
    return pairs, [[str(m) for m in c.members] for c in result.clusters]


def measure_band(
    copies: list[tuple[str, list[str], str]], band: str, configs: dict[str, DedupConfig]
) -> dict[str, Any]:
    texts, story_of, cer = printed(copies, BANDS[band], seed=hash_band(band))
    row: dict[str, Any] = {
        "band": band,
        "articles": len(texts),
        "stories": len(set(story_of.values())),
        "realised CER": cer,
    }
    flat = {k: "\n".join(line for line in v.split("\n") if line.strip()) for k, v in texts.items()}
    for name, config in configs.items():
        start = time.perf_counter()
        result = find_duplicates(flat if name.endswith(FLAT) else texts, config=config)
        seconds = round(time.perf_counter() - start, 1)
        pairs, groups = dedup_links(result)
        row[name] = {**score(story_of, pairs, groups), "partial pairs": result.summary.pairs_partial,
                     "boilerplate lines": result.summary.boilerplate_lines, "seconds": seconds}  # fmt: skip
    for threshold in (0.5, 0.3):
        groups = lsh_groups(texts, threshold)
        row[f"LSH {threshold}"] = score(story_of, group_pairs(groups), groups)
    return row


FLAT = ", no blank lines"
"""A method name ending so runs on the scans with their blank lines removed (paragraph breaks lost,
as many OCR outputs give them)."""


def hash_band(band: str) -> int:
    return sum(ord(c) * 31**i for i, c in enumerate(band))


def print_table(rows: list[dict[str, Any]], methods: list[str]) -> None:
    print(
        "| CER band | realised CER | articles | method | pair F1 | precision | recall | ARI | false pairs |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        for method in methods:
            m = row[method]
            print(f"| {row['band']}% | {row['realised CER']:.2%} | {row['articles']} | {method} | "
                  f"{m['pair F1']} | {m['precision']} | {m['recall']} | {m['ARI']} | {m['false pairs']} |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help=f"the shared data folder (default {DEFAULT_DATA})"
    )
    parser.add_argument("--stories", type=int, default=500, help="wire stories (default 500)")
    parser.add_argument(
        "--bands", nargs="+", choices=sorted(BANDS), default=list(BANDS), help="CER bands, in %%"
    )
    parser.add_argument("--no-mixed", action="store_true", help="skip the mixed collection")
    args = parser.parse_args(argv)
    if not (args.data / "bbc_news").is_dir():
        print(
            f"error: {args.data / 'bbc_news'} not found: the OCR benchmark needs the shared data",
            file=sys.stderr,
        )
        return 2
    copies, set_aside = build_stories(args.data, args.stories)
    print(f"{len(copies)} copies of {args.stories} stories ({set_aside} candidate stories set aside: linked to another)",
          file=sys.stderr)  # fmt: skip
    configs = {"dedup defaults": DedupConfig(), "dedup --preset ocr": DedupConfig.ocr(),
               "dedup defaults" + FLAT: DedupConfig(), "dedup --preset ocr" + FLAT: DedupConfig.ocr()}  # fmt: skip
    rows = [measure_band(copies, band, configs) for band in args.bands]
    print_table(rows, [*configs, "LSH 0.5", "LSH 0.3"])
    for row in rows:
        for name in configs:
            print(f"{row['band']}%: {name}: partial pairs {row[name]['partial pairs']}, boilerplate lines "
                  f"{row[name]['boilerplate lines']}, {row[name]['seconds']} s")  # fmt: skip
    if not args.no_mixed:
        print("\nA mixed collection, one default run: every other copy born-digital, the rest OCR'd at 1-3%")
        print(
            "| half | articles | alone: pair F1 | alone: ARI | in the mixed run: pair F1 | in the mixed run: ARI |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        for m in measure_mixed(copies):
            print(f"| {m['half']} | {m['articles']} | {m['alone']['pair F1']} | {m['alone']['ARI']} | "
                  f"{m['in the mixed run']['pair F1']} | {m['in the mixed run']['ARI']} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
