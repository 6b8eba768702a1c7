"""``dedup serve``: the archive over real HTTP on loopback, started as a user starts it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from conftest import SEED_A, SEED_B

TOKEN = "t0ken-for-tests"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(archive, *options):
    """``dedup serve ARCHIVE`` on a free loopback port, once it answers: its address and process."""
    port = free_port()
    env = {**os.environ, "DEDUP_SERVE_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "dedup", "serve", str(archive), "--port", str(port), *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            call(base, "GET", "/health")
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    return base, proc


@pytest.fixture
def server(tmp_path):
    base, proc = launch(tmp_path / "a.db", "--max-bytes", "200000")
    yield base, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def call(base, method, path, body=None, token=TOKEN):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(base + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_feed_checks_adds_removes_and_reads_stats(server, seeds):
    base, _ = server
    articles = [{"id": k, "text": v, "outlet": "wire"} for k, v in seeds.items() if k != SEED_B]
    status, added = call(base, "POST", "/add", {"articles": articles})
    assert status == 200 and added["archive"]["stored"] == 4 and added["pairs"] == []
    status, asked = call(
        base, "POST", "/query", {"articles": [{"id": "new", "text": seeds[SEED_B]}], "explain": True}
    )
    assert status == 200 and [(p["a"], p["b"], p["kind"]) for p in asked["pairs"]] == [
        (SEED_A, "new", "contained")
    ]
    assert asked["pairs"][0]["paragraphs"] and asked["articles"][0] == {
        "id": SEED_A,
        "meta": {"outlet": "wire"},
    }
    assert call(base, "GET", "/stats")[1]["articles"] == 4
    assert call(base, "DELETE", f"/articles/{SEED_A}") == (200, {"removed": 1})
    assert call(base, "GET", "/stats")[1]["articles"] == 3


def test_a_server_with_the_semantic_check_finds_a_story_reworded_from_an_archived_one(tmp_path):
    from test_semantic import AGENCY, NEWSPAPER, SAME_EVENT

    from dedup import DedupConfig, Index

    Index(tmp_path / "s.db", DedupConfig.reuse()).close()  # an archive made for rewritten reuse
    base, proc = launch(tmp_path / "s.db", "--semantic")
    try:
        stored = [{"id": "agency", "text": AGENCY}, {"id": "other", "text": SAME_EVENT}]
        assert call(base, "POST", "/add", {"articles": stored})[0] == 200
        status, asked = call(base, "POST", "/query", {"articles": [{"id": "paper", "text": NEWSPAPER}]})
        assert status == 200 and [(p["a"], p["b"], p["kind"]) for p in asked["pairs"]] == [
            ("agency", "paper", "rewritten")
        ]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


def test_errors_are_one_line_json(server, seeds):
    base, _ = server
    assert call(base, "GET", "/stats", token=None)[0] == 401
    assert call(base, "GET", "/stats", token="wrong")[0] == 401
    status, body = call(base, "POST", "/add", b"{not json")
    assert status == 400 and body["error"].startswith("the request body is not JSON")
    status, body = call(base, "POST", "/add", {"articles": [{"id": "x", "text": 5}]})
    assert (status, body) == (400, {"error": "articles[0]: the text must be a string, got int"})
    assert call(base, "POST", "/add", {"articles": [{"id": "big", "text": "word " * 60000}]})[0] == 413
    status, body = call(base, "DELETE", "/articles/nope")
    assert status == 404 and "'nope' is not in the archive" in body["error"]
    assert call(base, "GET", "/nowhere")[0] == 404
    assert all("\n" not in e for e in [body["error"]])


def test_sigterm_stops_the_server_cleanly(server):
    base, proc = server
    call(
        base,
        "POST",
        "/add",
        {"articles": [{"id": "a", "text": "One story about the harbour and the ships."}]},
    )
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "Traceback" not in err and err.strip().endswith("dedup: terminated")
    assert TOKEN not in err


def children_of(pid):
    """The process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def still_alive(pids, seconds):
    """Those of ``pids`` still running after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and [p for p in pids if alive(p)]:
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


def start_workers(tmp_path, workers):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "dedup", "serve", str(tmp_path / "w.db"), "--port", str(port),
                             "--workers", str(workers)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            call(base, "GET", "/health", token=None)
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    return base, proc


def test_server_processes_share_the_archive_and_stop_on_sigterm(tmp_path, seeds):
    base, proc = start_workers(tmp_path, 2)
    articles = [{"id": k, "text": v} for k, v in seeds.items() if k != SEED_B]
    assert call(base, "POST", "/add", {"articles": articles}, token=None)[0] == 200
    answers = {
        json.dumps(call(base, "POST", "/query", {"articles": [{"id": "new", "text": seeds[SEED_B]}]}, token=None)[1]["pairs"])
        for _ in range(12)
    }  # fmt: skip
    assert len(answers) == 1 and json.loads(answers.pop())[0]["a"] == SEED_A  # every process sees the add
    workers = children_of(proc.pid)
    assert len(workers) >= 2
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in err and err.strip().endswith("dedup: terminated")
    assert still_alive(workers, 20) == []


def test_server_processes_end_when_their_supervisor_is_killed(tmp_path):
    base, proc = start_workers(tmp_path, 2)
    workers = children_of(proc.pid)
    assert len(workers) >= 2
    proc.kill()
    proc.communicate(timeout=30)
    assert still_alive(workers, 20) == []
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        call(base, "GET", "/health", token=None)


def test_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "dedup", "serve", str(tmp_path / "p.db"), "--port", str(port)],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (
        done.stderr.strip().splitlines()[-1]
        == f"dedup: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )
