#!/usr/bin/env python3
"""compare.py GOT.npy EXPECTED.npy LABEL: prints max |diff| / max |expected| and whether the
top 5 of every image agree; exits 1 unless the first is at most 1e-4 and the second holds.
Outputs of [N, classes, 1, 1] and [N, classes] compare as the same classes."""
import sys

import numpy as np

RTOL = 1e-4


def main():
    got_path, expected_path, label = sys.argv[1:4]
    got, expected = np.load(got_path), np.load(expected_path)
    if got.size != expected.size or got.shape[0] != expected.shape[0]:
        print(f"{label}: shape {list(got.shape)}, expected {list(expected.shape)}: FAIL")
        return 1
    got = got.reshape(expected.shape[0], -1).astype(np.float64)
    expected = expected.reshape(expected.shape[0], -1).astype(np.float64)
    rel = np.abs(got - expected).max() / np.abs(expected).max()
    top = lambda a: np.argsort(-a, axis=1, kind="stable")[:, :5]
    agree = bool((top(got) == top(expected)).all()) and np.isfinite(rel)
    passed = rel <= RTOL and agree
    print(f"{label}: max|diff|/max|expected| = {rel:.2e}, top 5 agree: {'yes' if agree else 'NO'}: {'pass' if passed else 'FAIL'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
