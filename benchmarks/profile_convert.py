"""Where the converter's time goes: the profile behind ``make bench-convert``'s ratios.

Two measurements on the benchmark's synthetic MNIST (``bench_convert.make_idx_files``):

1. CPU seconds against wall seconds for each variant (``bench_convert.run_variant`` in a
   child process; CPU is the user and system time of the child and every process it waited
   for, Beam's workers included). On 2 cores a variant's speed-up over one process is at most
   ``2 x (one process's CPU) / (its own CPU)``: the CPU it adds over the same work in one
   process (start-up, the runner's per-bundle work, pickling, imports in each worker) caps
   the ratio whatever the scheduling.
2. A cProfile of the one-process converter: the per-record work every variant repeats.

Run with ``make profile-convert``; results go to benchmarks/results/convert_profile.md.
"""

import argparse
import cProfile
import io
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_convert import WORKERS, _convert_in_one_process, _dataset, _generate, _shards
from results_files import write_results

VARIANTS = ("single_process", "beam", "tf_slim_loop")


def cpu_and_wall(variant: str, data: Path, cache: Path, out: Path, n: int) -> dict:
    """Runs ``bench_convert.py --variant`` in a child; its wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [sys.executable, str(Path(__file__).parent / "bench_convert.py")]
    command += ["--variant", variant, "--data_dir", str(data), "--cache_dir", str(cache)]
    command += ["--out_dir", str(out), "--n", str(n)]
    start = time.perf_counter()
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    timed = json.loads(result.stdout.strip().splitlines()[-1])
    return {"variant": variant, "process_wall": wall, "cpu": cpu, **timed}


def per_record_profile(data: Path, cache: Path, out: Path, n: int, top: int = 14) -> str:
    """The one-process converter under cProfile: its functions by their own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    _convert_in_one_process(_dataset(data), data, cache, out, _shards(n))
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=240_000, help="training images (default 240000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile-convert-") as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        data.mkdir()
        _generate(data, args.n)
        cache = tmp / "cache"
        cpu_and_wall("single_process", data, cache, tmp / "warm", args.n)  # fills the cache
        rows = []
        for variant in VARIANTS:
            rows.append(cpu_and_wall(variant, data, cache, tmp / variant, args.n))
            print(json.dumps(rows[-1]), flush=True)
        profile = per_record_profile(data, cache, tmp / "profiled", args.n)
    one = next(r for r in rows if r["variant"] == "single_process")
    lines = [
        f"# Converter profile (`make profile-convert`, {args.n:,} training images)",
        "",
        "| variant | examples/s | timed s | process wall s | CPU s | CPU / one process's "
        f"| speed-up bound on {WORKERS} cores |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        bound = WORKERS * one["cpu"] / r["cpu"] if r["variant"] == "beam" else 1.0
        lines.append(
            f"| {r['variant']} | {r['examples_per_second']:,.0f} | {r['seconds']:.1f} | "
            f"{r['process_wall']:.1f} | {r['cpu']:.1f} | {r['cpu'] / one['cpu']:.2f} | "
            f"{bound:.2f}x |"
        )
    lines += ["", "One process under cProfile, by own time:", "", "```", profile.strip(), "```"]
    write_results("convert_profile", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
