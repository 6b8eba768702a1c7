"""MinHash signatures, datasketch-compatible, computed a whole article at a time with numpy.

The scheme is datasketch's ``affine32`` (its default since 2.0): each 32-bit shingle hash is mixed
once with the MurmurHash3 finalizer and permuted by ``a_k * h + b_k mod 2**32``; the permutation
parameters ``a``, ``b`` are taken from datasketch itself for the configured ``num_perm`` and
``seed``. A row of :func:`signature_matrix` therefore equals ``MinHash(num_perm, seed,
hashfunc=identity).update_batch(hashes).hashvalues`` (tested), and :func:`to_lean_minhash` hands
it to datasketch's indexes and storage without recomputing anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import version

import numpy as np
from datasketch import LeanMinHash, MinHash

SCHEME = "affine32"
DATASKETCH_VERSION = version("datasketch")
_U32 = np.uint32
_BLOCK = 8192
_ROWS_BLOCK = 4096


@lru_cache(maxsize=8)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's own permutation parameters ``(a, b)`` for this ``num_perm`` and ``seed``."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=SCHEME).permutations
    return np.asarray(a, dtype=_U32), np.asarray(b, dtype=_U32)


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _U32(16))
    h = h * _U32(0x85EBCA6B)
    h = h ^ (h >> _U32(13))
    h = h * _U32(0xC2B2AE35)
    return h ^ (h >> _U32(16))


def signature(shingles: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """The MinHash signature (``uint32[num_perm]``) of one set of shingle hashes."""
    a, b = permutations(num_perm, seed)
    result = np.full(num_perm, np.iinfo(_U32).max, dtype=_U32)
    # blocks of shingles, so that a huge text never needs a (shingles x num_perm) matrix at once
    for start in range(0, shingles.size, _BLOCK):
        with np.errstate(over="ignore"):
            mixed = _fmix32(shingles[start : start + _BLOCK].astype(_U32, copy=False))
            permuted = mixed[:, np.newaxis] * a[np.newaxis, :] + b[np.newaxis, :]
        np.minimum(result, permuted.min(axis=0), out=result)
    return result


def signature_rows(
    rows: np.ndarray, shingles: np.ndarray, count: int, num_perm: int, seed: int
) -> np.ndarray:
    """Signatures of ``count`` shingle sets given as one array: ``shingles[k]`` belongs to set
    ``rows[k]`` (``rows`` non-decreasing). A set with no shingles has the all-maximum signature."""
    a, b = permutations(num_perm, seed)
    result = np.full((count, num_perm), np.iinfo(_U32).max, dtype=_U32)
    # blocks of shingles, one (num_perm x block) matrix at a time (cache-sized: the minimum per
    # set runs along its contiguous rows); a set may span two blocks
    for start in range(0, shingles.size, _ROWS_BLOCK):
        block_rows = rows[start : start + _ROWS_BLOCK]
        with np.errstate(over="ignore"):
            mixed = _fmix32(shingles[start : start + _ROWS_BLOCK].astype(_U32, copy=False))
            permuted = a[:, np.newaxis] * mixed[np.newaxis, :] + b[:, np.newaxis]
        firsts = np.flatnonzero(np.diff(block_rows, prepend=-1))
        targets = block_rows[firsts]
        result[targets] = np.minimum(result[targets], np.minimum.reduceat(permuted, firsts, axis=1).T)
    return result


def signature_matrix(shingle_sets: Sequence[np.ndarray], num_perm: int, seed: int) -> np.ndarray:
    """Signatures of many shingle sets, one row each (``uint32[n, num_perm]``)."""
    matrix = np.empty((len(shingle_sets), num_perm), dtype=_U32)
    for row, shingles in enumerate(shingle_sets):
        matrix[row] = signature(shingles, num_perm, seed)
    return matrix


def to_lean_minhash(row: np.ndarray, seed: int) -> LeanMinHash:
    """A datasketch ``LeanMinHash`` holding one signature row."""
    return LeanMinHash(seed=seed, hashvalues=row, scheme=SCHEME)


def estimated_jaccard(row_a: np.ndarray, row_b: np.ndarray) -> float:
    """MinHash estimate of the Jaccard similarity of two signatures."""
    return float(np.count_nonzero(row_a == row_b)) / len(row_a)
