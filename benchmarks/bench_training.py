"""Training throughput of each source network: images per second of one full training step.

For every network of ``course_lib.models`` and every combination of memory layout
(NCHW or channels-last) and precision (float32 or bfloat16 autocast), it times
forward + loss + backward + SGD step on random uint8 images, on the CPU and on
CUDA when present, and prints the rates and the fastest setting per network.
It also prints the machine's load (``os.getloadavg``), since other processes on
a shared machine lower the numbers.

Usage: ``python benchmarks/bench_training.py [--steps 10] [--batch-size 128] [--threads N]
[--only forsyth_cifar,...]``  (``make benchmark-training``)
"""
from __future__ import annotations

import argparse
import os
import platform
import sys

import torch

from course_lib.models import MODEL_BUILDERS, buduma_cifar
from course_lib.training import SpeedSettings, train_step_throughput

NETWORKS = {**{name: (build, shape) for name, (build, shape) in MODEL_BUILDERS.items()},
            "buduma_cifar_bn": (lambda **kw: buduma_cifar(batch_norm=True, **kw), (3, 24, 24))}
SETTINGS = [SpeedSettings(False, False), SpeedSettings(True, False),
            SpeedSettings(False, True), SpeedSettings(True, True)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--only", default="", help="comma-separated network names")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = [n for n in NETWORKS if not args.only or n in args.only.split(",")]
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} CPU threads, batch {args.batch_size}, {args.steps} timed steps")
    if hasattr(os, "getloadavg"):
        print("load average before (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
    for device in devices:
        label = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
        print(f"\n{label}: training images per second")
        print(f"{'network':<18}" + "".join(f"{str(s):>34}" for s in SETTINGS) + "   fastest")
        for name in names:
            build, shape = NETWORKS[name]
            rates = {}
            for s in SETTINGS:
                torch.manual_seed(0)
                rates[s] = train_step_throughput(build(seed=0), shape, batch_size=args.batch_size,
                                                 channels_last=s.channels_last, bf16=s.bf16,
                                                 steps=args.steps, warmup=2, device=device)
            best = max(rates, key=rates.get)
            base = rates[SETTINGS[0]]
            print(f"{name:<18}" + "".join(f"{rates[s]:>24,.0f} ({rates[s] / base:4.2f}x)" for s in SETTINGS)
                  + f"   {best}", flush=True)
    if hasattr(os, "getloadavg"):
        print("\nload average after (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
