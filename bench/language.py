#!/usr/bin/env python3
"""`bench/run language`: the PruneLang executable against CPython, side by side, in one run.

Two measurements, each a whole process as a user starts it from a shell:
  startup  `prunelang -e '1+1'` against `python3 -c 'print(1+1)'`;
  loop     a 10^6-iteration accumulation loop in each language (`-e` / `-c`), with the loop's
           own time also given as (loop process − startup process) on each side.
Prints one JSON object per benchmark: {"bench", "ours_s", "ref", "ref_s", "ratio", ...};
ratio = reference time / our time (> 1: PruneLang faster). Times are medians of `--repeats` runs,
after one untimed warm-up run of each command (so both read their files from the page cache).
"""
import argparse, json, statistics, subprocess, sys, time

LOOP_N = 1_000_000
PRUNE_LOOP = f"s = 0\nfor i in range({LOOP_N}) {{ s = s + i }}\ns"
PY_LOOP = f"s = 0\nfor i in range({LOOP_N}):\n    s = s + i\nprint(s)"


def median_time(cmd, repeats, expect):
    subprocess.run(cmd, check=True, capture_output=True)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, check=True, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if r.stdout.strip() != expect:
            sys.exit(f"{cmd[0]} printed {r.stdout.strip()!r}, expected {expect!r}")
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True, help="the release prunelang executable")
    ap.add_argument("--python", default="python3", help="the CPython to compare with")
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    # The interpreter itself, not a launcher in front of it (pyenv's `python3` is a shell script).
    args.python = subprocess.run([args.python, "-c", "import sys; print(sys.executable)"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    version = subprocess.run([args.python, "--version"], capture_output=True, text=True).stdout.strip()

    ours_start = median_time([args.binary, "-e", "1+1"], args.repeats, "2")
    ref_start = median_time([args.python, "-c", "print(1+1)"], args.repeats, "2")
    print(json.dumps({"bench": "startup_eval_1plus1", "ours_s": round(ours_start, 5), "ref": version,
                      "ref_s": round(ref_start, 5), "ratio": round(ref_start / ours_start, 3)}))

    total = str(LOOP_N * (LOOP_N - 1) // 2)
    loop_repeats = max(3, args.repeats // 3)
    ours_loop = median_time([args.binary, "-e", PRUNE_LOOP], loop_repeats, total)
    ref_loop = median_time([args.python, "-c", PY_LOOP], loop_repeats, total)
    ours_inner, ref_inner = max(ours_loop - ours_start, 1e-6), max(ref_loop - ref_start, 1e-6)
    print(json.dumps({"bench": f"loop_{LOOP_N}", "ours_s": round(ours_loop, 4), "ref": version,
                      "ref_s": round(ref_loop, 4), "ratio": round(ref_loop / ours_loop, 3),
                      "loop_only_ours_s": round(ours_inner, 4), "loop_only_ref_s": round(ref_inner, 4),
                      "loop_only_ratio": round(ref_inner / ours_inner, 3)}))


if __name__ == "__main__":
    main()
