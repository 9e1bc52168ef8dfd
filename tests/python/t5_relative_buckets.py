#!/usr/bin/python3
"""Reference values for sslx::nn::relative_position_bucket.

An independent reimplementation of T5's _relative_position_bucket (Mesh TensorFlow, and
Hugging Face transformers' T5Attention) with the logarithm in float64 NumPy. Writes one line per
(bidirectional, num_buckets, max_distance) case: the case, then the buckets of the relative
positions -LIMIT .. LIMIT.

Run: /usr/bin/python3 tests/python/t5_relative_buckets.py > tests/python/t5_relative_buckets.txt
"""
import math

import numpy as np

LIMIT = 300
CASES = [(True, 32, 128), (False, 32, 128), (True, 8, 20), (False, 16, 64), (True, 64, 256)]


def bucket(relative_position, bidirectional, num_buckets, max_distance):
    relative_position = np.asarray(relative_position, dtype=np.int64)
    result = np.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        result += (relative_position > 0).astype(np.int64) * num_buckets
        distance = np.abs(relative_position)
    else:
        distance = -np.minimum(relative_position, 0)
    max_exact = num_buckets // 2
    is_small = distance < max_exact
    with np.errstate(divide="ignore"):  # log(0) only where is_small picks the exact value
        scaled = (np.log(distance.astype(np.float64) / max_exact)
                  / math.log(max_distance / max_exact) * (num_buckets - max_exact))
    if_large = max_exact + np.where(is_small, 0, scaled).astype(np.int64)
    if_large = np.minimum(if_large, num_buckets - 1)
    return result + np.where(is_small, distance, if_large)


def main():
    positions = np.arange(-LIMIT, LIMIT + 1)
    print(f"# relative positions {-LIMIT} .. {LIMIT}; bidirectional num_buckets max_distance: buckets")
    for bidirectional, num_buckets, max_distance in CASES:
        values = bucket(positions, bidirectional, num_buckets, max_distance)
        print(int(bidirectional), num_buckets, max_distance, ":", " ".join(map(str, values)))


if __name__ == "__main__":
    main()
