"""Speed of course_lib's NumPy conv2d / pooling against torch (CPU) and against the naive loops.

A script, not a test: it prints tables of median times and ratios and says whether the targets
are met:

* vectorised ``course_lib.conv2d`` at most 4x slower than ``torch.nn.functional.conv2d`` on CPU
  (median over the layer suite), and likewise for pooling;
* vectorised at least 500x faster than the loop-based ``*_naive`` twin (median over the suite).

The naive loops are far too slow for the real batch, so that ratio is measured on a reduced
shape (N = 1 and, where needed, fewer channels), with the vectorised op timed on exactly the
same reduced input.

Usage::

    python benchmarks/bench_ops.py            # full suite
    python benchmarks/bench_ops.py --quick    # fewer repeats, smaller naive shapes
    python benchmarks/bench_ops.py --profile  # also profile conv2d's stages and alternatives
    python benchmarks/bench_ops.py --threads 1  # torch and BLAS single-threaded (busy machines)

On a busy machine multi-threaded kernels (torch's and OpenBLAS's) suffer most: a small GEMM can
wait a whole scheduler slice for its second thread. The tables give wall-time medians and, in
brackets, the same ratio from CPU time; ``--threads 1`` gives a steadier like-for-like run.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import course_lib as cl  # noqa: E402

CONV_TARGET = 4.0        # ours / torch, median over the suite
NAIVE_TARGET = 500.0     # naive / vectorised, median over the suite


@dataclass(frozen=True)
class ConvCase:
    name: str
    n: int
    c_in: int
    c_out: int
    h: int
    w: int
    k: int
    stride: int = 1
    padding: int = 0

    def macs_per_example(self, c_in=None, c_out=None) -> int:
        ho = cl.conv_output_size(self.h, self.k, self.stride, self.padding)
        wo = cl.conv_output_size(self.w, self.k, self.stride, self.padding)
        return cl.conv_macs(c_in or self.c_in, c_out or self.c_out, self.k, ho, wo)


CONV_SUITE = [
    ConvCase("LeNet conv1", 64, 1, 6, 32, 32, 5),
    ConvCase("LeNet conv2", 64, 6, 16, 14, 14, 5),
    ConvCase("MNIST Forsyth conv1", 64, 1, 20, 28, 28, 5),
    ConvCase("CIFAR 32ch 5x5", 64, 32, 32, 16, 16, 5, padding=2),
    ConvCase("CIFAR first layer", 64, 3, 32, 32, 32, 5, padding=2),
    ConvCase("VGG-style 3x3", 32, 64, 64, 32, 32, 3, padding=1),
    ConvCase("strided 3x3 s2", 64, 16, 32, 32, 32, 3, stride=2, padding=1),
]

POOL_SUITE = [  # (name, shape, kind, kernel, stride)
    (f"{kind} {k}x{k}/{s} {shape[1]}x{shape[2]}x{shape[3]}", shape, kind, k, s)
    for shape in [(64, 32, 32, 32), (64, 20, 24, 24)]
    for kind in ("max", "avg")
    for k, s in [(2, 2), (3, 2)]
]


def measure(fn: Callable[[], object], repeats: int, warmup: int = 1,
            min_run: float = 0.0) -> tuple[float, float]:
    """Median wall time and median CPU time (all threads) of one ``fn()`` call, in seconds.

    With ``min_run`` > 0 each measurement loops ``fn`` enough times to last about ``min_run``
    seconds and divides: on a busy machine a sub-millisecond call is either lucky or preempted,
    while a long one (like the naive loop it is compared with) sees the average load.
    CPU time (``time.process_time``) does not count time spent preempted, so it is the
    steadier number on a shared machine; it does count every thread, which can only make a
    multi-threaded op look slower.
    """
    for _ in range(warmup):
        fn()
    inner = 1
    if min_run > 0:
        t0 = time.perf_counter()
        fn()
        inner = max(1, int(min_run / max(time.perf_counter() - t0, 1e-7)))
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(inner):
            fn()
        wall.append((time.perf_counter() - t0) / inner)
        cpu.append((time.process_time() - c0) / inner)
    return statistics.median(wall), statistics.median(cpu)


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1,
                min_run: float = 0.0) -> float:
    """Median wall time of one ``fn()`` call (see :func:`measure`)."""
    return measure(fn, repeats, warmup, min_run)[0]


def paired_times(fn_a: Callable[[], object], fn_b: Callable[[], object], repeats: int,
                 warmup: int = 2, min_total: float = 0.0) -> tuple[float, float, float, float]:
    """Time two functions alternately (a, b, a, b, ...) so both see the same machine load.

    Returns the medians (wall a, wall b, CPU a, CPU b) in seconds; keeps going past
    ``repeats`` until ``min_total`` seconds are spent (at most 10 x repeats runs each).
    """
    for _ in range(warmup):
        fn_a()
        fn_b()
    wall = {0: [], 1: []}
    cpu = {0: [], 1: []}
    start = time.perf_counter()
    while len(wall[0]) < repeats or (time.perf_counter() - start < min_total
                                     and len(wall[0]) < 10 * repeats):
        for i, fn in enumerate((fn_a, fn_b)):
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[i].append(time.perf_counter() - t0)
            cpu[i].append(time.process_time() - c0)
    med = statistics.median
    return med(wall[0]), med(wall[1]), med(cpu[0]), med(cpu[1])


def fmt_t(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:7.2f} s "
    if seconds >= 1e-3:
        return f"{seconds * 1e3:7.2f} ms"
    return f"{seconds * 1e6:7.1f} us"


def reduce_channels(case: ConvCase, budget: int) -> tuple[int, int]:
    """Halve C_in and C_out (the larger first) until one example costs <= ``budget`` MACs."""
    c_in, c_out = case.c_in, case.c_out
    while case.macs_per_example(c_in, c_out) > budget and (c_in > 1 or c_out > 1):
        if c_out >= c_in and c_out > 1:
            c_out = max(1, c_out // 2)
        else:
            c_in = max(1, c_in // 2)
    return c_in, c_out


# ----------------------------------------------------------------------------- conv
def bench_conv(args) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(0)
    print(f"\nconv2d, float32, CPU (torch threads: {torch.get_num_threads()}); ours and torch are "
          f"timed alternately, >= {args.repeats} runs each after warm-up.\nMedian wall times; "
          f"ratios from them, and from CPU time in brackets")
    head = (f"{'layer':<20} {'input N,C,H,W':<15} {'C_out':>5} {'k/s/p':>5} | {'ours':>9} "
            f"{'torch':>9} {'ours/torch':>15} | {'naive shape':<17} {'naive':>9} "
            f"{'vectorised':>10} {'naive/vec':>15}")
    print(head)
    print("-" * len(head))
    ratios = []
    for case in CONV_SUITE:
        x = rng.standard_normal((case.n, case.c_in, case.h, case.w)).astype(np.float32)
        w = (rng.standard_normal((case.c_out, case.c_in, case.k, case.k)) * 0.1).astype(np.float32)
        b = rng.standard_normal(case.c_out).astype(np.float32)
        xt, wt, bt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b)
        kw = dict(stride=case.stride, padding=case.padding)
        ours = cl.conv2d(x, w, b, **kw)
        with torch.no_grad():
            ref = F.conv2d(xt, wt, bt, **kw).numpy()
        assert ours.dtype == np.float32 and ours.shape == ref.shape
        np.testing.assert_allclose(ours, ref, rtol=1e-3, atol=1e-3)
        with torch.no_grad():
            t_ours, t_torch, m_ours, m_torch = paired_times(
                lambda: cl.conv2d(x, w, b, **kw), lambda: F.conv2d(xt, wt, bt, **kw),
                args.repeats, min_total=args.min_total)

        # naive vs vectorised on the same reduced shape (N = 1, fewer channels if needed)
        c_in, c_out = reduce_channels(case, args.naive_macs)
        xs = np.ascontiguousarray(x[:1, :c_in])
        ws, bs = np.ascontiguousarray(w[:c_out, :c_in]), b[:c_out]
        np.testing.assert_allclose(cl.conv2d_naive(xs, ws, bs, **kw), cl.conv2d(xs, ws, bs, **kw),
                                   rtol=1e-4, atol=1e-4)
        t_naive, c_naive = measure(lambda: cl.conv2d_naive(xs, ws, bs, **kw),
                                   args.naive_repeats, warmup=0)
        t_vec, c_vec = measure(lambda: cl.conv2d(xs, ws, bs, **kw), args.repeats, min_run=0.1)
        ratios.append((t_ours / t_torch, t_naive / t_vec, m_ours / m_torch, c_naive / c_vec))
        print(f"{case.name:<20} {','.join(map(str, (case.n, case.c_in, case.h, case.w))):<15} "
              f"{case.c_out:>5} {f'{case.k}/{case.stride}/{case.padding}':>5} | "
              f"{fmt_t(t_ours):>9} {fmt_t(t_torch):>9} {t_ours / t_torch:>6.2f}x "
              f"({m_ours / m_torch:>5.2f}x) | "
              f"{f'1,{c_in},{case.h},{case.w}->{c_out}':<17} {fmt_t(t_naive):>9} "
              f"{fmt_t(t_vec):>10} {t_naive / t_vec:>6.0f}x ({c_naive / c_vec:>5.0f}x)")
    return ratios


# ----------------------------------------------------------------------------- pooling
POOL_OPS = {"max": (cl.max_pool2d, cl.max_pool2d_naive, F.max_pool2d),
            "avg": (cl.avg_pool2d, cl.avg_pool2d_naive, F.avg_pool2d)}


def bench_pool(args) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(1)
    print(f"\npooling, float32, CPU; naive vs vectorised on one example (N = 1"
          f"{', 8 channels' if args.quick else ''}); median wall time (CPU-time ratio in brackets)")
    head = (f"{'op':<24} | {'ours':>9} {'torch':>9} {'ours/torch':>15} | {'naive':>9} "
            f"{'vectorised':>10} {'naive/vec':>15}")
    print(head)
    print("-" * len(head))
    ratios = []
    for name, shape, kind, k, s in POOL_SUITE:
        fast, naive, ref_fn = POOL_OPS[kind]
        x = rng.standard_normal(shape).astype(np.float32)
        xt = torch.from_numpy(x)
        np.testing.assert_allclose(fast(x, k, s), ref_fn(xt, k, s).numpy(), rtol=1e-5, atol=1e-6)
        t_ours, t_torch, m_ours, m_torch = paired_times(
            lambda: fast(x, k, s), lambda: ref_fn(xt, k, s), args.repeats,
            min_total=args.min_total)
        xs = np.ascontiguousarray(x[:1, :8] if args.quick else x[:1])
        np.testing.assert_allclose(naive(xs, k, s), fast(xs, k, s), rtol=1e-5, atol=1e-6)
        t_naive, c_naive = measure(lambda: naive(xs, k, s), args.naive_repeats, warmup=0)
        t_vec, c_vec = measure(lambda: fast(xs, k, s), args.repeats, min_run=0.1)
        ratios.append((t_ours / t_torch, t_naive / t_vec, m_ours / m_torch, c_naive / c_vec))
        print(f"{name:<24} | {fmt_t(t_ours):>9} {fmt_t(t_torch):>9} {t_ours / t_torch:>6.2f}x "
              f"({m_ours / m_torch:>5.2f}x) | {fmt_t(t_naive):>9} {fmt_t(t_vec):>10} "
              f"{t_naive / t_vec:>6.0f}x ({c_naive / c_vec:>5.0f}x)")
    return ratios


# ----------------------------------------------------------------------------- profiles
def conv_alt_cmajor(x, w, b, s, p):
    """Alternative A: im2col in (C_in, kH, kW, N, H_out, W_out) layout, filled by k*k slice
    copies (each a plain strided copy), then ONE GEMM W(C_out, C_in*k*k) @ cols, so the long
    N*H_out*W_out axis is the GEMM's N dimension; one transpose back to NCHW."""
    n, c_in, h, wd = x.shape
    c_out, _, k, _ = w.shape
    ho, wo = (h + 2 * p - k) // s + 1, (wd + 2 * p - k) // s + 1
    xc = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))).transpose(1, 0, 2, 3) if p else \
        x.transpose(1, 0, 2, 3)
    cols = np.empty((c_in, k, k, n, ho, wo), dtype=x.dtype)
    for u in range(k):
        for v in range(k):
            cols[:, u, v] = xc[:, :, u:u + (ho - 1) * s + 1:s, v:v + (wo - 1) * s + 1:s]
    out = w.reshape(c_out, -1) @ cols.reshape(c_in * k * k, -1)        # (C_out, N*Ho*Wo)
    out += b[:, None]
    return np.ascontiguousarray(out.reshape(c_out, n, ho, wo).transpose(1, 0, 2, 3))


def conv_alt_shift_add(x, w, b, s, p):
    """Alternative B: no im2col buffer; k*k GEMMs over C_in on shifted NHWC views."""
    n, c_in, h, wd = x.shape
    c_out, _, k, _ = w.shape
    ho, wo = (h + 2 * p - k) // s + 1, (wd + 2 * p - k) // s + 1
    xh = np.ascontiguousarray((np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x)
                              .transpose(0, 2, 3, 1))
    acc = np.zeros((n, ho, wo, c_out), dtype=x.dtype)
    wk = w.transpose(2, 3, 1, 0)                                        # (k, k, C_in, C_out)
    for u in range(k):
        for v in range(k):
            acc += xh[:, u:u + (ho - 1) * s + 1:s, v:v + (wo - 1) * s + 1:s, :] @ wk[u, v]
    acc += b
    return np.ascontiguousarray(acc.transpose(0, 3, 1, 2))


def pool_alt_taps(x, k, s, kind):
    """Pooling by k*k elementwise maximum/sum over strided slices (no padding, floor mode)."""
    n, c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    out = None
    for u in range(k):
        for v in range(k):
            tap = x[:, :, u:u + (ho - 1) * s + 1:s, v:v + (wo - 1) * s + 1:s]
            if out is None:
                out = tap.copy()
            elif kind == "max":
                np.maximum(out, tap, out=out)
            else:
                out += tap
    return out if kind == "max" else out / np.float32(k * k)


def profile_conv(args) -> None:
    """Re-run conv2d's stages one by one (the same code as course_lib.conv.conv2d) and time
    them, next to two alternative layouts."""
    from course_lib.conv import _check_conv_args
    rng = np.random.default_rng(2)
    r = args.repeats
    print("\nconv2d profile (medians): its stages, then two alternatives (see conv_alt_* above)")
    head = (f"{'layer':<20} | {'checks':>8} {'pad':>8} {'im2col':>9} {'GEMM':>9} {'NCHW':>8} "
            f"{'bias':>8} | {'conv2d':>9} {'torch':>9} | {'alt A':>9} {'alt B':>9}")
    print(head)
    print("-" * len(head))
    for case in CONV_SUITE:
        x = rng.standard_normal((case.n, case.c_in, case.h, case.w)).astype(np.float32)
        w = (rng.standard_normal((case.c_out, case.c_in, case.k, case.k)) * 0.1).astype(np.float32)
        b = rng.standard_normal(case.c_out).astype(np.float32)
        s, p, k = case.stride, case.padding, case.k
        ho = cl.conv_output_size(case.h, k, s, p)
        wo = cl.conv_output_size(case.w, k, s, p)
        t_check = median_time(lambda: _check_conv_args(x, w, b, s, p, 1), r)
        padw = ((0, 0), (0, 0), (p, p), (p, p))
        xp = np.pad(x, padw) if p else x
        t_pad = median_time(lambda: np.pad(x, padw), r) if p else 0.0
        win = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s][:, :, :ho, :wo]

        def im2col():   # what np.tensordot does first: summed axes last, copy to 2D
            return win.transpose(0, 2, 3, 1, 4, 5).reshape(case.n * ho * wo, -1)
        cols, w2 = im2col(), w.reshape(case.c_out, -1)
        t_im2col = median_time(im2col, r)
        t_gemm = median_time(lambda: cols @ w2.T, r)      # (N*Ho*Wo, C_in*k*k) @ (.., C_out)
        out = (cols @ w2.T).reshape(case.n, ho, wo, case.c_out)
        t_nchw = median_time(lambda: np.ascontiguousarray(out.transpose(0, 3, 1, 2)), r)
        o2 = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
        t_bias = median_time(lambda: o2.__iadd__(b[None, :, None, None]), r)
        xt, wt, bt = map(torch.from_numpy, (x, w, b))
        with torch.no_grad():
            t_total, t_torch, *_ = paired_times(
                lambda: cl.conv2d(x, w, b, stride=s, padding=p),
                lambda: F.conv2d(xt, wt, bt, stride=s, padding=p), r)
        ref = cl.conv2d(x, w, b, stride=s, padding=p)
        np.testing.assert_allclose(conv_alt_cmajor(x, w, b, s, p), ref, rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(conv_alt_shift_add(x, w, b, s, p), ref, rtol=1e-3, atol=1e-3)
        t_a = median_time(lambda: conv_alt_cmajor(x, w, b, s, p), r)
        t_b = median_time(lambda: conv_alt_shift_add(x, w, b, s, p), r)
        print(f"{case.name:<20} | {fmt_t(t_check):>8} {fmt_t(t_pad):>8} {fmt_t(t_im2col):>9} "
              f"{fmt_t(t_gemm):>9} {fmt_t(t_nchw):>8} {fmt_t(t_bias):>8} | {fmt_t(t_total):>9} "
              f"{fmt_t(t_torch):>9} | {fmt_t(t_a):>9} {fmt_t(t_b):>9}")


def profile_pool(args) -> None:
    rng = np.random.default_rng(3)
    r = args.repeats
    print("\npooling profile (medians): course_lib's window-view reduction vs k*k strided "
          "slices (pool_alt_taps)")
    head = f"{'op':<24} | {'ours':>9} {'taps':>9} {'torch':>9} | {'ours N=1':>9} {'taps N=1':>9}"
    print(head)
    print("-" * len(head))
    for name, shape, kind, k, s in POOL_SUITE:
        fast, _, ref_fn = POOL_OPS[kind]
        x = rng.standard_normal(shape).astype(np.float32)
        xt, xs = torch.from_numpy(x), np.ascontiguousarray(x[:1])
        np.testing.assert_allclose(pool_alt_taps(x, k, s, kind), fast(x, k, s), rtol=1e-5,
                                   atol=1e-6)
        t_ours, t_torch, *_ = paired_times(lambda: fast(x, k, s), lambda: ref_fn(xt, k, s), r)
        t_taps = median_time(lambda: pool_alt_taps(x, k, s, kind), r)
        t1 = median_time(lambda: fast(xs, k, s), r, min_run=0.05)
        t1_taps = median_time(lambda: pool_alt_taps(xs, k, s, kind), r, min_run=0.05)
        print(f"{name:<24} | {fmt_t(t_ours):>9} {fmt_t(t_taps):>9} {fmt_t(t_torch):>9} | "
              f"{fmt_t(t1):>9} {fmt_t(t1_taps):>9}")


def summary(label: str, ratios: list[tuple[float, float, float, float]]) -> bool:
    med = statistics.median
    vs_torch, vs_torch_cpu = med(r[0] for r in ratios), med(r[2] for r in ratios)
    vs_naive, vs_naive_cpu = med(r[1] for r in ratios), med(r[3] for r in ratios)
    ok_torch, ok_naive = vs_torch <= CONV_TARGET, vs_naive >= NAIVE_TARGET

    def verdict(ok):
        return "MET" if ok else "MISSED"
    print(f"{label}: median over the suite of ours/torch = {vs_torch:.2f}x (worst layer "
          f"{max(r[0] for r in ratios):.2f}x) -> target <= {CONV_TARGET:g}x {verdict(ok_torch)}"
          f"   [CPU time: {vs_torch_cpu:.2f}x {verdict(vs_torch_cpu <= CONV_TARGET)}]")
    print(f"{label}: median over the suite of naive/vectorised = {vs_naive:.0f}x (least "
          f"{min(r[1] for r in ratios):.0f}x) -> target >= {NAIVE_TARGET:g}x {verdict(ok_naive)}"
          f"   [CPU time: {vs_naive_cpu:.0f}x {verdict(vs_naive_cpu >= NAIVE_TARGET)}]")
    return ok_torch and ok_naive


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats and smaller naive shapes (about a minute)")
    parser.add_argument("--profile", action="store_true",
                        help="also split conv2d into its stages and time alternative layouts")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit torch AND NumPy's BLAS to this many threads (default: leave "
                             "both alone). On a busy shared machine, --threads 1 avoids the "
                             "thread pools' spin-waits that otherwise dominate small ops")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        try:
            from threadpoolctl import threadpool_limits
            args._limits = threadpool_limits(limits=args.threads)   # kept alive until exit
        except ImportError:
            print("threadpoolctl is not installed: NumPy's BLAS threads are not limited; set "
                  "OPENBLAS_NUM_THREADS before starting Python instead")
    args.repeats = 3 if args.quick else 9
    args.naive_repeats = 1 if args.quick else 3
    args.min_total = 0.0 if args.quick else 1.0
    # per-example MAC budget for the naive loop (about 1 us per MAC in CPython: well under 3 s)
    args.naive_macs = 150_000 if args.quick else 600_000
    print(f"course_lib {cl.__version__}, NumPy {np.__version__}, torch {torch.__version__}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
          f"{' (quick)' if args.quick else ''}"
          f"{f', threads limited to {args.threads}' if args.threads else ''}")
    conv = bench_conv(args)
    pool = bench_pool(args)
    print()
    ok = summary("conv2d", conv)
    ok = summary("pooling", pool) and ok
    if args.profile:
        profile_conv(args)
        profile_pool(args)
    print(f"\nall targets met: {ok}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
