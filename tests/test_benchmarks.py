"""Every benchmark program runs in its --quick mode, so none of them rots."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole benchmark programs in --quick mode

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_candidate_recall_quick():
    proc = run("candidate_recall.py", "--quick")
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MinHashLSH") and " 0.1 " in x)
    assert line.split()[3] == "1.0"  # the default setting reaches the seed pair for every seed


DATA = BENCHMARKS.parent.parent / "shared" / "data"


def test_quality_quick_runs_and_measures_the_seeds():
    proc = run("quality.py", "--quick", "--only", "seeds")
    assert proc.returncode == 0, proc.stderr
    assert "| seeds | pairs | [['000', '001']] |" in proc.stdout


@pytest.mark.skipif(
    not (DATA / "counter_urdu_news_reuse").is_dir(), reason=f"shared data not found at {DATA}"
)
def test_quality_quick_on_real_data(tmp_path):
    out = tmp_path / "quality.json"
    proc = run("quality.py", "--quick", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    results = json.loads(out.read_text(encoding="utf-8"))
    assert results["bbc_summaries"]["dedup"]["summaries linked"] >= 0.95
    assert (
        results["identical"]["reuters21578"]["dedup"]["identical groups found"].split("/")[0]
        == (results["identical"]["reuters21578"]["dedup"]["identical groups found"].split("/")[1])
    )
    assert results["furniture"]["dedup"]["furniture-only pairs"] == 0
    assert "| COUNTER | WD pairs found |" in proc.stdout


def test_speed_quick_measures_every_path_and_finds_the_planted_copies(tmp_path):
    out = tmp_path / "speed.json"
    proc = run("speed.py", "--quick", "--cache", str(tmp_path / "cache"), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    row = json.loads(out.read_text(encoding="utf-8"))["rows"][0]
    assert row["articles"] == 2000
    assert all(row[f"{k}_per_s"] > 0 for k in ("naive", "batch", "floor", "dedup"))
    found, planted = map(int, row["planted_found"].split("/"))
    assert planted > 100 and found == planted


def test_index_quick_adds_queries_and_compares_with_datasketch(tmp_path):
    out = tmp_path / "index.json"
    proc = run("index.py", "--quick", "--cache", str(tmp_path / "cache"), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["add"]["articles"] == 3000 and result["add"]["per_s"] > 0  # 5,000 less 2,000 new
    assert result["query"]["pairs"] > 0 and result["query"]["p99_ms"] >= result["query"]["median_ms"]
    assert result["redis_add"]["per_s"] > 0 and result["datasketch_redis"]["insert_per_s"] > 0
    assert "| add / batch run |" in proc.stdout


@pytest.mark.skipif(not (DATA / "bbc_news").is_dir(), reason=f"shared data not found at {DATA}")
def test_semantic_quick_measures_with_and_without_the_check():
    proc = run("semantic.py", "--quick")
    assert proc.returncode == 0, proc.stderr
    assert "| --preset reuse --semantic |" in proc.stdout and "sentences/s" in proc.stdout


@pytest.mark.skipif(not (DATA / "bbc_news").is_dir(), reason=f"shared data not found at {DATA}")
def test_ocr_benchmark_runs_on_a_few_stories():
    proc = run("ocr.py", "--stories", "40", "--bands", "1-3")
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if "dedup --preset ocr" in x)
    assert float(line.split("|")[5]) >= 0.95  # pair F1 of the preset at 1-3%


def test_the_template_count_reads_a_rewritten_pair_by_its_corresponding_sentences():
    """``quality.shared_only_templates`` asks of a rewritten pair's sentences what it asks of other
    pairs' paragraphs: a pair matched only on a notice's sentences filled in for five companies
    is template-only; the reworded story is not."""
    from dataclasses import replace

    from dedup import DedupConfig, find_duplicates
    from dedup.results import SemanticMatch, SentenceMatch

    sys.path.insert(0, str(BENCHMARKS))
    from quality import shared_only_templates
    from test_semantic import stories

    docs = stories()
    for k, name in enumerate(["Acme", "Borel", "Cato", "Dunmore", "Everly"]):
        docs[f"n{k}"] = (f"The company said its board declared a quarterly dividend of {k + 10} cts a share, "
                         f"payable April {k + 1}.\n\n{name} Corp makes valves and pumps.")  # fmt: skip
    pair = find_duplicates(docs, config=DedupConfig.reuse(semantic=True)).pairs[0]
    assert (pair.a, pair.b, pair.kind) == ("agency", "paper", "rewritten")
    first = docs["n0"].index("\n")
    notice = replace(pair, a="n0", b="n1", semantic=SemanticMatch(0.5, 0.5, 0.5, (SentenceMatch((0, first), (0, first), 0.9),)))  # fmt: skip
    result = type("Result", (), {"pairs": (pair, notice)})()
    assert shared_only_templates(result, docs) == {"furniture-only": [], "template-only": [["n0", "n1"]]}
