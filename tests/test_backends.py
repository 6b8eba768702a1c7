"""One contract every archive backend passes: SQLite, Redis and memory hold the same data the same
way (the logic above them — merges, promotions — is written once, in dedup.archive)."""

import json

import numpy as np
import pytest

from dedup import Index, InputError
from dedup.backends import FORMAT, Batch, NewArticle, Removal, open_backend


@pytest.fixture(params=["memory", "sqlite", "redis"])
def location(request, tmp_path):
    if request.param == "memory":
        return ":memory:"
    if request.param == "sqlite":
        return str(tmp_path / "archive.db")
    import redis

    url = f"{request.getfixturevalue('redis_url')}/3"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def backend(location):
    store = open_backend(location, create=True)
    store.create({"shingle_size": 5})
    yield store
    store.close()


def batch(ids, *, group=0, new_group=True, leaders=None, keys=(), lines=None, merged=None, groups=1):
    """A batch of articles ``ids`` (texts "text of ID"), all in one group unless told."""
    leaders = leaders or {}
    articles = [
        NewArticle(json.dumps(i), f"digest-{leaders.get(i, i)}".encode(), *(leaders.get(i, (k, True)) if isinstance(leaders.get(i), tuple) else (k, True)),
                   group, new_group, f"text of {i}", json.dumps({"title": i}))
        for k, i in enumerate(ids)
    ]  # fmt: skip
    key_values = np.array([k for k, _ in keys], dtype=np.uint64)
    key_rows = np.array([r for _, r in keys], dtype=np.int64)
    return Batch(articles, (key_values, key_rows), lines or {}, merged or {}, groups if new_group else 0)


def test_commits_take_the_next_rows_and_groups_inside_the_transaction(backend):
    assert backend.commit(batch(["a", "b"], keys=[(7, 0), (7, 1)], lines={11: 2})) == (0, 0)
    assert backend.commit(batch(["c"], keys=[(7, 0)], lines={11: 1})) == (2, 1)
    stored = backend.articles([0, 1, 2])
    assert [(json.loads(a.id), a.row, a.leader, a.group) for a in stored] == [
        ("a", 0, 0, 0),
        ("b", 1, 1, 0),
        ("c", 2, 2, 1),
    ]
    assert [json.loads(a.meta) for a in stored] == [{"title": "a"}, {"title": "b"}, {"title": "c"}]
    assert backend.holders([7, 8]) == {7: [0, 1, 2]}
    assert backend.line_counts([11, 12]) == {11: 3}
    assert backend.rows_of_ids([json.dumps("b"), json.dumps("zz")]) == {json.dumps("b"): (1, b"digest-b")}


def test_sentence_vectors_are_stored_with_their_batch_and_read_back_by_key(backend):
    # none stored yet (an SQLite archive of an earlier version has no table for them)
    assert backend.vectors([5, 2**64 - 1]) == {}
    vector = np.arange(4, dtype=np.float32).tobytes()
    first = batch(["a"])
    first.vectors = {5: vector, 2**64 - 1: b"\x00" * 16}
    backend.commit(first)
    again = batch(["b"])
    again.vectors = {5: vector}  # the same sentence embedded again by a writer that had not seen it
    backend.commit(again)
    assert backend.vectors([5, 6, 2**64 - 1]) == {5: vector, 2**64 - 1: b"\x00" * 16}
    failed = batch(["a"])  # an id stored already: nothing of the batch is written, its vectors neither
    failed.vectors = {6: vector}
    with pytest.raises(InputError):
        backend.commit(failed)
    assert backend.vectors([6]) == {}


def test_an_id_stored_meanwhile_fails_the_whole_batch(backend):
    backend.commit(batch(["a"]))
    with pytest.raises(InputError, match="article 'a' was stored by another writer"):
        backend.commit(batch(["b", "a"]))
    assert backend.stats()["articles"] == 1 and backend.rows_of_ids([json.dumps("b")]) == {}


def test_group_sizes_count_distinct_texts_and_merges_relabel(backend):
    backend.commit(batch(["a", "b"]))  # group 0
    copy = NewArticle(json.dumps("a2"), b"digest-a", 0, False, 0, False, "text of a")  # a copy of row 0
    backend.commit(Batch([copy], (np.empty(0, np.uint64), np.empty(0, np.int64)), {}, {}, 0))
    backend.commit(batch(["c"]))  # group 1
    assert backend.group_sizes([0, 1]) == {0: 2, 1: 1}  # the copy is not a text of its own
    backend.commit(batch(["d"], group=0, new_group=False, merged={1: 0}))
    members = backend.group_members([0, 1])
    assert [json.loads(i) for _, i in members[0]] == ["a", "b", "a2", "c", "d"] and 1 not in members
    assert backend.copies_of(0) == [2]
    assert backend.leaders_of_digests([b"digest-a", b"digest-x"]) == {b"digest-a": 0}


def test_removing_promotes_the_first_copy(backend):
    backend.commit(batch(["a"], keys=[(5, 0)]))
    copy = NewArticle(json.dumps("a2"), b"digest-a", 0, False, 0, False, "text of a")
    backend.commit(Batch([copy], (np.empty(0, np.uint64), np.empty(0, np.int64)), {}, {}, 0))
    backend.remove(Removal([0], [(5, 0)], [(5, 1)], {}, {0: 1}))
    assert backend.rows_of_ids([json.dumps("a"), json.dumps("a2")]) == {json.dumps("a2"): (1, b"digest-a")}
    assert backend.holders([5]) == {5: [1]} and backend.articles([1])[0].leader == 1


@pytest.mark.parametrize("kind", ["sqlite", "redis"])  # an archive in memory is never reopened
def test_an_archive_of_another_format_is_refused(kind, tmp_path, request):
    location = str(tmp_path / "archive.db")
    if kind == "redis":
        import redis

        location = f"{request.getfixturevalue('redis_url')}/3"
        redis.Redis.from_url(location).flushdb()
    with Index(location) as index:
        index.add({"a": "One story about the harbour and the ships that came in today."})
        if location.startswith("redis"):
            index.backend.r.hset("dedup:meta", "format", "dedup-archive/1")  # type: ignore[attr-defined]
        else:
            index.backend.db.execute("UPDATE meta SET value = 'dedup-archive/1' WHERE key = 'format'")  # type: ignore[attr-defined]
    with pytest.raises(
        InputError,
        match=f"format 'dedup-archive/1', which this version of dedup cannot read \\(it reads '{FORMAT}'\\)",
    ):
        Index(location)


def test_every_backend_gives_the_same_report(location, seeds):
    with Index(location) as index:
        first = index.add(dict(list(seeds.items())[:2]))
        second = index.add(dict(list(seeds.items())[2:]))
        asked = index.query({"copy": seeds["001_b371cbcbe07b8631.txt"]})
    for result in (first, second, asked):
        result.archive["location"] = None
    with Index(":memory:") as reference:
        expected = [reference.add(dict(list(seeds.items())[:2])), reference.add(dict(list(seeds.items())[2:])),
                    reference.query({"copy": seeds["001_b371cbcbe07b8631.txt"]})]  # fmt: skip
    for result in expected:
        result.archive["location"] = None
    assert [r.to_json() for r in (first, second, asked)] == [r.to_json() for r in expected]


def test_key_runs_answer_the_same_read_whole_or_in_stretches(monkeypatch):
    """Lookups in sorted runs against a dict built by hand: runs loaded whole (a long-lived
    process) and read in stretches between fences (a short one), over keys repeated across
    fence boundaries, runs merged, and dead rows."""
    import sqlite3

    import numpy as np

    from dedup.backends import runs

    monkeypatch.setattr(runs, "FENCE", 8)
    monkeypatch.setattr(runs, "BASE_KEYS", 100)
    db = sqlite3.connect(":memory:", isolation_level=None)
    for statement in runs.TABLES.split(";"):
        if statement.strip():
            db.execute(statement)
    random = np.random.default_rng(5)
    truth: dict[int, set[int]] = {}
    store = runs.KeyRuns(db)
    for batch in range(12):
        keys = random.integers(0, 300, 150).astype(np.uint64) * np.uint64(
            2**54
        )  # (high bits: unsigned order)
        rows = random.integers(0, 40, 150) + batch * 40
        store.add(keys, rows)
        while store.merge():  # (an archive's merges run in a thread of their own)
            pass
        for k, r in zip(keys.tolist(), rows.tolist(), strict=True):
            truth.setdefault(k, set()).add(r)
    store.forget([3, 50, 77])
    expected = {k: sorted(rs - {3, 50, 77}) for k, rs in truth.items() if rs - {3, 50, 77}}
    assert db.execute("SELECT COUNT(*) FROM key_runs").fetchone()[0] < 12  # merged
    query = [*truth, 12345, 2**64 - 1]
    for sparse in (query[::23], query[5::31], query):  # (a few keys: stretches apart)
        short = runs.KeyRuns(db)  # a new process: nothing loaded
        assert short.holders(sparse) == {k: expected[k] for k in sparse if k in expected}
        assert not short._cache  # read in stretches
    warmed = runs.KeyRuns(db)
    warmed.warm()  # (dedup serve before its first request)
    assert len(warmed._cache) == db.execute("SELECT COUNT(*) FROM key_runs").fetchone()[0]
    assert warmed.holders(query[::23]) == {k: expected[k] for k in query[::23] if k in expected}
    monkeypatch.setattr(runs, "LAZY_LOOKUPS", 0)
    assert runs.KeyRuns(db).holders(query) == expected  # loaded whole
    assert store.holders(query[:7]) == {k: expected[k] for k in query[:7] if k in expected}
