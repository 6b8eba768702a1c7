"""The deduplicated corpus: ``dedup PATH --keep-to KEPT --removed-to FILE`` and ``dedup.deduplicate``."""

import csv
import json
import sys

import pytest
from test_pipeline import templated_corpus

from conftest import run_cli
from dedup import ConfigError, deduplicate, find_duplicates, keep
from dedup.corpus import Facts, Policy, plan
from dedup.results import Cluster, DedupResult


def records(n=600):
    """Templated news records with copies, an outlet, a date, a nested field and an empty one."""
    out = []
    for k, (i, text) in enumerate(sorted(templated_corpus(n, seed=3).items())):
        out.append({"id": i, "title": f"Title {k}", "text": text, "outlet": f"outlet{k % 7}",
                    "date": f"2024-{1 + k % 12:02d}-{1 + k % 27:02d}", "tags": ["news", str(k % 3)]})  # fmt: skip
    out.append(
        {"id": "empty", "title": "", "text": "- -", "outlet": "outlet0", "date": "2024-01-01", "tags": []}
    )
    return out


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_kept_and_removed_are_the_input_record_for_record(tmp_path):
    rows = records()
    write_jsonl(tmp_path / "in.jsonl", rows)
    done = run_cli(str(tmp_path / "in.jsonl"), "--keep-to", str(tmp_path / "kept.jsonl"),
                   "--removed-to", str(tmp_path / "removed.jsonl"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # the corpus is the output: no report unless asked
    kept, removed = read_jsonl(tmp_path / "kept.jsonl"), read_jsonl(tmp_path / "removed.jsonl")
    assert len(removed) > 40 and len(kept) + len(removed) == len(rows)
    kept_ids = {r["id"] for r in kept}
    for record in removed:  # each names a kept record, and is a whole input record
        assert record["dedup_copy_of"] in kept_ids and record["dedup_kind"] in (
            "exact",
            "near_duplicate",
            "contained",
        )
        assert 0 < record["dedup_coverage"] <= 1
    plain = [{k: v for k, v in r.items() if not k.startswith("dedup_")} for r in removed]
    assert sorted(kept + plain, key=lambda r: str(r["id"])) == sorted(rows, key=lambda r: str(r["id"]))
    assert "empty" in kept_ids  # an article with no words is skipped, not a copy
    assert f"dedup: kept {len(kept):,} of {len(rows):,} records" in done.stderr
    assert "dedup: note: skipped 1 (no words or not read): empty" in done.stderr


def test_the_same_corpus_from_jsonl_csv_and_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [{k: v for k, v in r.items() if k != "tags"} for r in records(300)]
    write_jsonl(tmp_path / "in.jsonl", rows)
    with open(tmp_path / "in.csv", "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    kept = {}
    for suffix in ("jsonl", "csv", "parquet"):
        target = tmp_path / f"kept-{suffix}.jsonl"
        done = run_cli(str(tmp_path / f"in.{suffix}"), "--keep-to", str(target), "--keep", "earliest:date")
        assert done.returncode == 0, done.stderr
        kept[suffix] = read_jsonl(target)
    assert kept["jsonl"] == kept["parquet"]
    assert [r["id"] for r in kept["csv"]] == [r["id"] for r in kept["jsonl"]]
    assert kept["csv"][0] == {k: str(v) for k, v in kept["jsonl"][0].items()}  # CSV fields stay strings


def test_written_as_csv_parquet_and_a_dataset_directory(tmp_path):
    datasets = pytest.importorskip("datasets")
    import pyarrow.parquet as pq

    rows = records(200)
    write_jsonl(tmp_path / "in.jsonl", rows)
    reference = keep(rows)
    for name in ("kept.csv", "kept.parquet", "kept"):
        done = run_cli(str(tmp_path / "in.jsonl"), "--keep-to", str(tmp_path / name))
        assert done.returncode == 0, done.stderr
    with open(tmp_path / "kept.csv", newline="", encoding="utf-8") as stream:
        from_csv = list(csv.DictReader(stream))
    assert [r["id"] for r in from_csv] == [str(r["id"]) for r in reference]
    assert json.loads(from_csv[0]["tags"]) == reference[0]["tags"]  # a list as JSON in its cell
    assert pq.read_table(tmp_path / "kept.parquet").to_pylist() == reference
    assert datasets.load_from_disk(str(tmp_path / "kept")).to_list() == reference


def test_annotate_keeps_every_record_and_marks_the_copies(tmp_path):
    rows = records(200)
    write_jsonl(tmp_path / "in.jsonl", rows)
    done = run_cli(str(tmp_path / "in.jsonl"), "--keep-to", str(tmp_path / "all.jsonl"), "--annotate")
    assert done.returncode == 0, done.stderr
    marked = read_jsonl(tmp_path / "all.jsonl")
    assert [r["id"] for r in marked] == [r["id"] for r in rows]
    copies = [r for r in marked if r["dedup_duplicate_of"] is not None]
    assert copies and all(r["dedup_group"] is not None and r["dedup_kind"] for r in copies)
    assert len(marked) - len(copies) == len(keep(rows))


def test_the_library_takes_records_and_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    rows = records(300)
    done = deduplicate(rows, keep="longest")
    assert len(done.kept) + len(done.removed) == len(rows)
    assert done.result.to_json() == find_duplicates(rows).to_json()
    table = datasets.Dataset.from_list(rows)
    from_table = deduplicate(table, keep="longest")
    assert isinstance(from_table.kept, datasets.Dataset) and from_table.kept.to_list() == done.kept
    assert [r.to_dict() for r in from_table.removed] == [r.to_dict() for r in done.removed]
    lengths = {r["id"]: len(r["text"]) for r in rows}
    assert all(lengths[r.copy_of] >= lengths[r.id] or r.kind == "contained" for r in done.removed)
    with pytest.raises(TypeError, match="read twice"):
        deduplicate(iter(rows))


def _pair(a, b, kind, direction=None, cover=(1.0, 1.0)):
    from dedup.results import Pair

    fields = Pair.__dataclass_fields__
    values = dict.fromkeys(fields, 0.0)
    values.update(a=a, b=b, kind=kind, direction=direction, coverage_a_by_b=cover[0], coverage_b_by_a=cover[1],
                  alignment=None, semantic=None)  # fmt: skip
    return Pair(**values)


def _result(pairs, clusters=()):
    return DedupResult(tuple(pairs), tuple(clusters), (), {})


def test_the_rule_keeps_every_article_that_is_no_copy_of_a_kept_one():
    facts = {i: Facts(k, 100 - k, None) for k, i in enumerate("abcd")}
    chain = _result([_pair("a", "b", "near_duplicate"), _pair("b", "c", "near_duplicate")])
    assert sorted(plan(chain, facts, Policy.of(keep="first"))) == ["b"]  # a and c share nothing: both stay
    assert sorted(plan(chain, facts, Policy.of(keep="first", drop="exact"))) == []
    inside = _result([_pair("a", "b", "contained", "b_in_a", (0.4, 1.0))])
    # b lies inside a: b is removed whichever comes first; a (holding b) is never a copy of b
    assert plan(inside, facts, Policy.of(keep="first"))["b"].copy_of == "a"
    late = {"a": Facts(1, 10), "b": Facts(0, 5)}
    assert list(plan(inside, late, Policy.of(keep="first"))) == ["b"]
    partial = _result([_pair("a", "b", "partial", None, (0.5, 0.5))])
    assert plan(partial, facts, Policy.of()) == {}
    grouped = _result([_pair("a", "b", "exact")], [Cluster(("a", "b"), "b")])
    assert list(plan(grouped, facts, Policy.of())) == ["a"]  # the representative stays
    dated = {"a": Facts(0, 1, "2024-05-01"), "b": Facts(1, 1, "2024-01-01")}
    assert list(plan(grouped, dated, Policy.of(keep="earliest:date"))) == ["a"]


@pytest.mark.parametrize(
    ("drop", "keep_rule", "message"),
    [("partial", "first", "partial pairs never remove"), ("exact,copies", "first", "unknown kind to drop 'copies'"),
     ("exact", "newest", "unknown keep rule 'newest'"), ("exact", "earliest", "unknown keep rule 'earliest'")],
)  # fmt: skip
def test_bad_policies_are_refused(drop, keep_rule, message):
    with pytest.raises(ConfigError, match=message):
        Policy.of(drop, keep_rule)


def test_command_errors_are_one_line_before_the_run(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", records(20))
    cases = [
        (["--keep-to", str(tmp_path / "k.txt")], "records are written as .jsonl, .ndjson, .csv, .parquet"),
        (["--keep-to", str(tmp_path / "k.jsonl"), "--drop", "partial"], "partial pairs never remove"),
        (["--annotate"], "--annotate marks the records written by --keep-to"),
        (["--keep-to", str(tmp_path / "in.jsonl")], "the report would overwrite or join the input"),
    ]
    for extra, message in cases:
        done = run_cli(str(tmp_path / "in.jsonl"), *extra)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    done = run_cli("-", "--keep-to", str(tmp_path / "k.jsonl"), stdin='{"id": 1, "text": "a b c"}\n')
    assert done.returncode == 2 and "give files, not - (stdin)" in done.stderr


def test_empty_articles_are_skipped_by_default_and_refused_with_strict(tmp_path):
    write_jsonl(tmp_path / "in.jsonl", records(30))
    done = run_cli(str(tmp_path / "in.jsonl"), "--format", "json")
    assert done.returncode == 0 and json.loads(done.stdout)["skipped"] == [
        {"id": "empty", "reason": "empty: no words"}
    ]
    strict = run_cli(str(tmp_path / "in.jsonl"), "--strict")
    assert strict.returncode == 2 and "article 'empty' is empty (no words)" in strict.stderr


def test_large_files_are_written_in_batches_and_read_back_whole(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from dedup.corpus import write_records

    rows = [{"id": k, "text": f"record {k}", "n": k % 7, "tags": [str(k)]} for k in range(9000)]  # 3 batches
    for name in ("big.parquet", "big.jsonl", "big.csv"):
        assert write_records(tmp_path / name, iter(rows), ["id", "text", "n", "tags"]) == len(rows)
    assert pq.read_table(tmp_path / "big.parquet").to_pylist() == rows
    assert read_jsonl(tmp_path / "big.jsonl") == rows
    bad = [*rows[:5000], {"id": "x", "text": "y", "n": "not a number", "tags": []}]
    with pytest.raises(Exception, match="a field's type differs from the first records'"):
        write_records(tmp_path / "bad.parquet", iter(bad), ["id", "text", "n", "tags"])
    assert not (tmp_path / "bad.parquet").exists()  # nothing half-written


def test_a_missing_package_for_the_output_is_named_before_the_run(monkeypatch, tmp_path):
    from dedup import InputError
    from dedup.corpus import check_record_target

    monkeypatch.setitem(sys.modules, "datasets", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(
        InputError, match=r"kept\.parquet: writing Parquet needs pyarrow: pip install 'newsdedup\[parquet\]'"
    ):
        check_record_target(tmp_path / "kept.parquet")
    with pytest.raises(InputError, match=r"kept: a dataset directory needs datasets"):
        check_record_target(tmp_path / "kept")
    assert check_record_target(tmp_path / "kept.jsonl") == "jsonl"
