#!/usr/bin/env python3
"""`bench/run kernel`: the PruneLang Jupyter kernel against ipykernel, side by side in one run.

Two measures, each through jupyter_client as a front end sees them:
  start      time from launching the kernel process to receiving its kernel_info_reply
             (median of --starts launches);
  roundtrip  time from sending a trivial execute_request (`1`) to receiving its execute_reply
             (median of --round-trips requests on a warm kernel).
Prints one JSON object per measure: {"bench": NAME, "ours_s": x, "ref": "ipykernel", "ref_s": y,
"ratio": y/x}; ratio > 1 means PruneLang is faster. PruneLang's kernelspec is installed into a
temporary prefix (JUPYTER_PATH), never the user's Jupyter folders.
"""
import argparse, json, os, pathlib, statistics, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--binary", required=True, help="the release prunelang executable")
ap.add_argument("--starts", type=int, default=10)
ap.add_argument("--round-trips", type=int, default=200)
args = ap.parse_args()

tmp = tempfile.TemporaryDirectory(prefix="prunelang-bench-kernel-")
os.environ["JUPYTER_PATH"] = os.path.join(tmp.name, "share", "jupyter")
os.environ["JUPYTER_RUNTIME_DIR"] = os.path.join(tmp.name, "runtime")
os.environ["PRUNELANG_KERNEL_HISTORY"] = os.path.join(tmp.name, "history.jsonl")
subprocess.run([args.binary, "install-kernel", "--prefix", tmp.name], check=True, capture_output=True)

from jupyter_client.manager import KernelManager  # noqa: E402  (after JUPYTER_PATH is set)


def start_once(name):
    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.kernel_info()
    while True:
        reply = kc.get_shell_msg(timeout=60)
        if reply["msg_type"] == "kernel_info_reply":
            break
    elapsed = time.perf_counter() - t0
    return elapsed, km, kc


def measure(name):
    starts = []
    for _ in range(args.starts):
        t, km, kc = start_once(name)
        starts.append(t)
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    t, km, kc = start_once(name)
    kc.wait_for_ready(timeout=60)
    trips = []
    for _ in range(10):
        kc.execute_interactive("1", timeout=60, output_hook=lambda m: None)
    for _ in range(args.round_trips):
        t0 = time.perf_counter()
        msg_id = kc.execute("1")
        while kc.get_shell_msg(timeout=60)["parent_header"].get("msg_id") != msg_id:
            pass
        trips.append(time.perf_counter() - t0)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return statistics.median(starts), statistics.median(trips)


ours = measure("prunelang")
ref = measure("python3")
for i, bench in enumerate(["start_to_kernel_info_reply", "execute_round_trip"]):
    print(json.dumps({"bench": bench, "ours_s": round(ours[i], 6), "ref": "ipykernel", "ref_s": round(ref[i], 6),
                      "ratio": round(ref[i] / ours[i], 2)}))
