#!/usr/bin/env python3
"""Checks the output of `examples/dump_samples.rs` against mpmath at 256 bits.

    cargo run --release -p gse-math --example dump_samples > /tmp/samples.txt
    python3 crates/gse-math/tools/check_mpmath.py /tmp/samples.txt

For each function it prints the number of samples and the maximum error, relative to the
exact value (or, for the GELU derivative, relative to the larger of its two terms Phi(x) and
x phi(x), which is how its bound is documented). Results that the library flushes to zero
(exact value below 2^-160) and overflows (exact value at least 2^128) are checked as such.
"""
import sys
from collections import defaultdict

from mpmath import mp, mpf

mp.prec = 256
TWO = mpf(2)
OVERFLOW = TWO**128
FLUSH = TWO**-160


def gelu_derivative_terms(x):
    cdf = mp.erfc(-x / mp.sqrt(2)) / 2
    dens = x * mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)
    return cdf + dens, max(abs(cdf), abs(dens))


def sigmoid(x):
    return 1 / (1 + mp.exp(-x))


UNARY = {
    "exp": mp.exp,
    "expm1": mp.expm1,
    "log": mp.log,
    "log1p": mp.log1p,
    "sqrt": mp.sqrt,
    "recip": lambda x: 1 / x,
    "tanh": mp.tanh,
    "sigmoid": sigmoid,
    "erf": mp.erf,
    "erfc": mp.erfc,
    "gelu_erf": lambda x: x * mp.erfc(-x / mp.sqrt(2)) / 2,
    "gelu_tanh": lambda x: x * sigmoid(2 * mp.sqrt(2 / mp.pi) * (x + mpf("0.044715") * x**3)),
    "sin": mp.sin,
    "cos": mp.cos,
    "tan": mp.tan,
    "sinh": mp.sinh,
    "cosh": mp.cosh,
    "asin": mp.asin,
    "acos": mp.acos,
    "atan": mp.atan,
    "asinh": mp.asinh,
    "acosh": mp.acosh,
    "atanh": mp.atanh,
}
BINARY = {"atan2": lambda y, x: mp.atan2(y, x), "powf": lambda b, e: mp.power(b, e)}


def main(path):
    worst = defaultdict(lambda: (mpf(0), ""))
    counts = defaultdict(int)
    failures = []
    for line in open(path):
        left, right = line.strip().split(" -> ")
        parts = left.split()
        name, nums = parts[0], [int(v) for v in parts[1:]]
        args = [mpf(nums[i]) * TWO ** nums[i + 1] for i in range(0, len(nums), 2)]
        out = right.split()
        if name == "gelu_erf_derivative":
            exact, scale = gelu_derivative_terms(args[0])
        elif name in BINARY:
            exact = BINARY[name](*args)
            scale = abs(exact)
        else:
            with mp.workprec(2200 if name in ("sin", "cos", "tan") else 256):
                exact = UNARY[name](args[0])
            scale = abs(exact)
        counts[name] += 1
        real = not isinstance(exact, mp.mpc) and mp.isfinite(exact)
        if out[0] != "F":
            ok = (out[0] == "I" and real and abs(exact) >= OVERFLOW * (1 - TWO**-50)) or (
                out[0] == "N" and not real
            )
            if not ok:
                failures.append(f"{line.strip()}  exact {mp.nstr(exact, 20)}")
            continue
        if not real:
            failures.append(f"{line.strip()}  should be NaN, exact {exact}")
            continue
        ours = mpf(int(out[1])) * TWO ** int(out[2])
        if ours == 0 and abs(exact) < FLUSH:
            continue
        if abs(exact) >= OVERFLOW:
            failures.append(f"{line.strip()}  should overflow, exact {mp.nstr(exact, 20)}")
            continue
        err = abs(ours - exact) / scale if scale != 0 else abs(ours)
        if err > worst[name][0]:
            worst[name] = (err, left)
    for name in sorted(counts):
        err, at = worst[name]
        log2 = float(mp.log(err, 2)) if err > 0 else float("-inf")
        print(f"{name:<22} {counts[name]:>6} samples  max error 2^{log2:7.2f}   at {at}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/samples.txt"))
