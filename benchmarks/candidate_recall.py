"""How often each candidate-generation setting reaches the seed pair 000/001, over many seeds.

The seed pair has a Jaccard of only 0.35 (001 is twice as long as 000). For each candidate
setting this program builds the index for the five fixtures with ``--seeds`` different MinHash
seeds and reports the share of seeds for which 000/001 is a candidate, and the mean number of
false candidate pairs (any other pair). Settings: datasketch ``MinHashLSH`` at several Jaccard
thresholds (what dedup uses), and ``MinHashLSHEnsemble`` at a containment threshold.

    python benchmarks/candidate_recall.py            # 200 seeds
    python benchmarks/candidate_recall.py --quick    # 10 seeds
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from datasketch import MinHashLSHEnsemble

from dedup.candidates import lsh_bands, lsh_pairs
from dedup.shingles import text_shingles
from dedup.signatures import signature_matrix, to_lean_minhash

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def ensemble_pairs(shingles, matrix, seed: int, threshold: float) -> set[tuple[int, int]]:
    index = MinHashLSHEnsemble(threshold=threshold, num_perm=matrix.shape[1], num_part=4)
    entries = [(row, to_lean_minhash(matrix[row], seed), len(s)) for row, s in enumerate(shingles)]
    index.index(entries)
    pairs = set()
    for row, minhash, size in entries:
        for other in index.query(minhash, size):
            if other != row:
                pairs.add((min(row, other), max(row, other)))
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="MinHash seeds to try (default 200)")
    parser.add_argument("--quick", action="store_true", help="10 seeds")
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--json", metavar="FILE", help="also write the table as JSON")
    args = parser.parse_args(argv)
    seeds = 10 if args.quick else args.seeds
    files = sorted(FIXTURES.glob("*.txt"))
    shingles = [text_shingles(f.read_text(encoding="utf-8"), 5) for f in files]
    settings = [("MinHashLSH", t) for t in (0.1, 0.2, 0.3, 0.5)] + [("LSHEnsemble", 0.5)]
    rows = []
    for name, threshold in settings:
        found = false = 0
        for seed in range(1, seeds + 1):
            matrix = signature_matrix(shingles, args.num_perm, seed)
            if name == "MinHashLSH":
                pairs = set(lsh_pairs(matrix, threshold=threshold, seed=seed))
            else:
                pairs = ensemble_pairs(shingles, matrix, seed, threshold)
            found += (0, 1) in pairs
            false += len(pairs - {(0, 1)})
        bands = "x".join(map(str, lsh_bands(threshold, args.num_perm))) if name == "MinHashLSH" else "-"
        rows.append(
            {"index": name, "threshold": threshold, "bands x rows": bands,
             "seed pair found": round(found / seeds, 3), "false candidates per run": round(false / seeds, 3)}
        )  # fmt: skip
    print(f"{seeds} seeds, num_perm {args.num_perm}, 5-word shingles, fixtures/")
    print(f"{'index':<12} {'threshold':>9} {'bands x rows':>12} {'000/001 found':>14} {'false/run':>10}")
    for r in rows:
        print(
            f"{r['index']:<12} {r['threshold']:>9} {r['bands x rows']:>12} "
            f"{r['seed pair found']:>14} {r['false candidates per run']:>10}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
