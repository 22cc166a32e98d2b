"""prunegrid (scripts/prunegrid): grids of PruneLang runs on Dask. A reduced grid of cheap cells (the top
singular value of seeded randn matrices) gives the same document on the serial path, on a local cluster,
and across "hosts" in network namespaces made here (a scheduler in one, a worker in each of two others,
on their own bridged link), where one worker is killed mid-cell and its cell recomputed by the other.
Also: two grids on one cells folder compute each cell once; claims; the Slurm job script.

Run as a script (`python Tests/python/test_grid.py bench [CELLS]`) it times a grid on 1 worker and on 2
workers in the namespaces (docs/BENCHMARKS.md)."""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
BIN = pathlib.Path(os.environ.get("PRUNELANG_BIN") or ROOT / ".build" / "release" / "prunelang")
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
DASK = str(pathlib.Path(PY).parent / "dask")

# A cell: the mean top singular value of K seeded N×N randn matrices (about 0.05 s per 600×600 matrix).
SCRIPT = """n = number(args[0])
s = number(args[1])
k = number(args[2])
top = 0
for i in range(k) { top = top + svdvals(randn(n, n, seed=s * 1000 + i))[0] }
print("| " + str(n) + " | " + str(s) + " | " + str(round(top / k * 1000) / 1000) + " |")
"""

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="no release prunelang at %s" % BIN)


def script(tmp_path):
    p = tmp_path / "cell.prune"
    p.write_text(SCRIPT)
    return p


def prunegrid(*args, ns=None, cwd=ROOT, timeout=300, popen=False):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "scripts"), PRUNELANG_BIN=str(BIN))
    cmd = [PY, "-m", "prunegrid", *map(str, args)]
    if ns:
        cmd = ["ip", "netns", "exec", ns, *cmd]
    if popen:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env)
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout)


def progress(stderr):
    """{cell: (how, worker)} from the progress lines."""
    out = {}
    for m in re.finditer(r"^prunegrid: \d+/\d+ (\S+) (computed|cached|other grid) on (\S+) ", stderr, re.M):
        assert m.group(1) not in out, "cell reported twice: " + m.group(1)
        out[m.group(1)] = (m.group(2), m.group(3))
    return out


def serial_doc(tmp_path, grid):
    r = prunegrid(script(tmp_path), *grid, "--cells", tmp_path / "serial", "--serial")
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


GRID = ["200 300", "0 1 2", "3"]   # 6 cells, well under a second each


def test_local_cluster_gives_the_serial_document(tmp_path):
    serial = serial_doc(tmp_path, GRID)
    assert len(serial.splitlines()) == 6 and serial.startswith("| 200 | 0 | ")
    r = prunegrid(script(tmp_path), *GRID, "--cells", tmp_path / "local", "--jobs", "2", "--dashboard", ":0")
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout == serial
    assert re.search(r"local cluster of 2 workers, dashboard http://\S+/status", r.stderr), r.stderr
    seen = progress(r.stderr)
    assert sorted(seen) == sorted("%s-%s-3" % (n, s) for n in (200, 300) for s in (0, 1, 2))
    assert all(how == "computed" and w.startswith("tcp://") for how, w in seen.values())
    assert len({w for _, w in seen.values()}) == 2, seen   # both workers took cells
    assert r.stderr.count("; done") == 1 and "about" in r.stderr
    for f in (tmp_path / "serial").iterdir():
        assert (tmp_path / "local" / f.name).read_text() == f.read_text()
    assert not list((tmp_path / "local").glob("*.claim")) and not list((tmp_path / "local").glob("*.tmp"))
    # Finished cells are never recomputed: a second run starts no cluster and prints the same rows.
    r = prunegrid(script(tmp_path), *GRID, "--cells", tmp_path / "local", "--jobs", "2", "--dashboard", ":0")
    assert r.returncode == 0 and r.stdout == serial and "to compute" not in r.stderr and "cluster" not in r.stderr
    # --cached leaves a missing cell out and says so; the rest in order.
    (tmp_path / "local" / "300-1-3.md").unlink()
    r = prunegrid(script(tmp_path), *GRID, "--cells", tmp_path / "local", "--cached")
    assert r.returncode == 0 and "300-1-3 not computed, left out" in r.stderr
    assert r.stdout.splitlines() == [l for l in serial.splitlines() if not l.startswith("| 300 | 1 |")]


def test_two_grids_on_one_folder_compute_each_cell_once(tmp_path):
    grid = ["600", "0 1 2 3 4 5", "20"]
    serial = serial_doc(tmp_path, grid)
    runs = [prunegrid(script(tmp_path), *grid, "--cells", tmp_path / "shared", "--jobs", "1", "--dashboard", ":0",
                      popen=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in runs]
    assert all(p.returncode == 0 for p in runs), [o[1][-2000:] for o in outs]
    assert all(o[0] == serial for o in outs)
    reports = [progress(o[1]) for o in outs]
    for n in range(6):
        # one grid computed it; the other found it done (before it started: no line) or waited for it
        hows = sorted(r.get("600-%d-20" % n, ("finished before",))[0] for r in reports)
        assert hows.count("computed") == 1, (n, hows)


def test_claims():
    from prunegrid.claim import Claim
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        cell = os.path.join(d, "c.md")
        a = Claim(cell, "grid-a", stale_after=30)
        assert a.acquire()
        assert not Claim(cell, "grid-b", stale_after=30).acquire()     # held by a live grid
        assert Claim(cell, "grid-a", stale_after=30).acquire()         # a retry of grid a's own cell
        old = time.time() - 100
        os.utime(cell + ".claim/owner.json", (old, old))
        b = Claim(cell, "grid-b", stale_after=30)
        assert b.acquire()                                              # stale: its owner died
        assert b.owner()["grid"] == "grid-b"
        a.release()                                                     # a no longer owns it: left alone
        assert os.path.isdir(cell + ".claim")
        b.release()
        assert not os.path.exists(cell + ".claim")


def test_progress_line():
    from prunegrid.progress import Progress
    p = Progress(total=4, already=1, label="results")
    p.start -= 20
    line = p.line({"name": "a", "how": "computed", "worker": "tcp://w", "seconds": 12.4})
    assert line.startswith("results: 2/4 a computed on tcp://w (12 s); about 40 s left"), line
    assert p.line({"name": "b", "how": "cached", "worker": "w", "seconds": 0})\
        .endswith("about 20 s left")
    p.done = 3
    assert p.line({"name": "c", "how": "computed", "worker": "w", "seconds": 1}).endswith("; done")


def test_slurm_job_script():
    pytest.importorskip("dask_jobqueue")
    from prunegrid import clusters
    cluster = clusters.slurm_cluster(queue="short", account="lab", cores=4, memory="8GB", walltime="01:30:00")
    try:
        js = cluster.job_script()
    finally:
        cluster.close()
    assert "#SBATCH -p short" in js and "#SBATCH -A lab" in js, js
    assert "#SBATCH --cpus-per-task=4" in js and "#SBATCH --mem=" in js and "#SBATCH -t 01:30:00" in js, js
    assert "export OPENBLAS_NUM_THREADS=1" in js
    # four single-threaded worker processes per job, one cell each, sharing its 8 GB (2e9 bytes = 1.86 GiB each)
    assert "--nworkers 4" in js and "--nthreads 1" in js and "--memory-limit 1.86GiB" in js, js
    assert re.search(r"distributed\.cli\.dask_worker tcp://\S+:\d+", js), js


SLURM_CONF = """ClusterName=prunegrid
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/none
CredType=cred/none
SlurmUser=root
SlurmdUser=root
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=4000 State=UNKNOWN
PartitionName=grid Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_slurm_one_node_controller_runs_the_grid(tmp_path):
    """A real Slurm (Debian's slurm-wlm): a one-node controller and node daemon started here (no munge:
    auth/none), the grid's workers submitted as Slurm jobs by dask-jobqueue."""
    for daemon in ("slurmctld", "slurmd", "sbatch"):
        if shutil.which(daemon) is None:
            pytest.skip("Slurm is not installed here (apt-get install slurm-wlm)")
    if os.geteuid() != 0:
        pytest.skip("a Slurm controller with SlurmUser=root needs root")
    d = tmp_path / "slurm"
    for sub in ("state", "spool"):
        (d / sub).mkdir(parents=True)
    host = subprocess.run(["hostname", "-s"], capture_output=True, text=True).stdout.strip()
    cpus = len(os.sched_getaffinity(0))
    (d / "slurm.conf").write_text(SLURM_CONF.format(host=host, ctld_port=free_port(), d_port=free_port(), d=d,
                                                     cpus=cpus))
    env = dict(os.environ, SLURM_CONF=str(d / "slurm.conf"))
    daemons = [subprocess.Popen(["slurmctld", "-D", "-i"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.STDOUT)]
    try:
        deadline = time.time() + 30
        while subprocess.run(["sinfo", "-h", "-o", "%a"], env=env, capture_output=True).returncode != 0:
            assert time.time() < deadline, (d / "slurmctld.log").read_text()[-2000:]
            time.sleep(0.5)
        daemons.append(subprocess.Popen(["slurmd", "-D"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.STDOUT))
        while "idle" not in subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True,
                                           text=True).stdout:
            assert time.time() < deadline, (d / "slurmd.log").read_text()[-2000:]
            time.sleep(0.5)
        grid = ["200 300", "0 1 2", "3"]
        serial = serial_doc(tmp_path, grid)
        env = dict(env, PYTHONPATH=str(ROOT / "scripts"), PRUNELANG_BIN=str(BIN))
        r = subprocess.run([PY, "-m", "prunegrid", script(tmp_path), *grid, "--cells", tmp_path / "cells", "--slurm",
                            "--slurm-queue", "grid", "--slurm-cores", str(cpus), "--slurm-memory", "2GB",
                            "--slurm-walltime", "00:10:00"], capture_output=True, text=True, cwd=tmp_path, env=env,
                           timeout=120)
        assert r.returncode == 0, r.stderr[-3000:]
        assert r.stdout == serial
        assert len(progress(r.stderr)) == 6
        assert "Launching batch job" in (d / "slurmd.log").read_text()
    finally:
        subprocess.run(["scancel", "--partition", "grid"], env=env, capture_output=True)
        for p in reversed(daemons):
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# --- hosts in network namespaces ---------------------------------------------------------------------

NET = "10.231.7"


class Hosts:
    """A scheduler "host" S and worker "hosts" A and B: three network namespaces, veth pairs from A and B
    to a bridge in S, addresses NET.1 (S), NET.2 (A), NET.3 (B) on that link."""

    def __init__(self, tmp):
        tag = str(os.getpid() % 100000)
        self.s, self.a, self.b = "pgs" + tag, "pga" + tag, "pgb" + tag
        self.tmp = pathlib.Path(tmp)
        self.procs = {}
        self.scheduler = "tcp://%s.1:8786" % NET

    def ip(self, *args):
        subprocess.run(["ip", *args], check=True, capture_output=True, text=True)

    def up(self):
        for ns in (self.s, self.a, self.b):
            self.ip("netns", "add", ns)
            self.ip("-n", ns, "link", "set", "lo", "up")
        self.ip("-n", self.s, "link", "add", "br0", "type", "bridge")
        self.ip("-n", self.s, "addr", "add", NET + ".1/24", "dev", "br0")
        self.ip("-n", self.s, "link", "set", "br0", "up")
        for ns, i in ((self.a, 2), (self.b, 3)):
            self.ip("link", "add", "up%d" % i, "netns", self.s, "type", "veth", "peer", "name", "eth0", "netns", ns)
            self.ip("-n", self.s, "link", "set", "up%d" % i, "master", "br0")
            self.ip("-n", self.s, "link", "set", "up%d" % i, "up")
            self.ip("-n", ns, "addr", "add", "%s.%d/24" % (NET, i), "dev", "eth0")
            self.ip("-n", ns, "link", "set", "eth0", "up")
        return self

    def start(self, name, ns, *cmd):
        log = open(self.tmp / (name + ".log"), "w")
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
        self.procs[name] = subprocess.Popen(["ip", "netns", "exec", ns, *cmd], stdout=log, stderr=subprocess.STDOUT,
                                            env=env, start_new_session=True)

    def kill(self, name):
        p = self.procs.pop(name)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()

    def cluster(self, workers=("a", "b")):
        self.start("scheduler", self.s, DASK, "scheduler", "--host", NET + ".1", "--port", "8786", "--no-dashboard")
        for w in workers:
            ns, i = (self.a, 2) if w == "a" else (self.b, 3)
            self.start("worker-" + w, ns, DASK, "worker", self.scheduler, "--no-nanny", "--nthreads", "1",
                       "--host", "%s.%d" % (NET, i), "--no-dashboard", "--name", "host-" + w)

    def down(self):
        for name in list(self.procs):
            self.kill(name)
        for ns in (self.s, self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def hosts(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root (ip netns add); not root here")
    if shutil.which("ip") is None:
        pytest.skip("no `ip` command (iproute2) to make network namespaces")
    h = Hosts(tmp_path)
    try:
        h.up()
    except subprocess.CalledProcessError as e:
        h.down()
        pytest.skip("cannot create network namespaces here: %s" % (e.stderr or e).strip())
    yield h
    h.down()


def test_multi_host_grid_survives_a_killed_worker(tmp_path, hosts):
    grid = ["600", "0 1 2 3 4 5 6 7", "40"]   # 8 cells of about 2 s each
    serial = serial_doc(tmp_path, grid)
    hosts.cluster()
    cells = tmp_path / "cells"
    driver = prunegrid(script(tmp_path), *grid, "--cells", cells, "--scheduler", hosts.scheduler,
                       "--wait-workers", "2", ns=hosts.s, popen=True)
    # Kill host A's worker (no nanny: it stays dead) once it is well into a cell.
    killed = {}

    def runs_of(args):
        """pids of the prunelang runs of the cell with these arguments"""
        pids = []
        for d in pathlib.Path("/proc").iterdir():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")[:-1]
            except OSError:
                continue
            if cmd[1:3] == [b"run", str(tmp_path / "cell.prune").encode()] and cmd[3:] == [a.encode() for a in args]:
                pids.append(int(d.name))
        return pids

    def alive(pid):
        try:
            return pathlib.Path("/proc/%d/stat" % pid).read_text().split(") ")[1][0] != "Z"
        except OSError:
            return False

    def killer():
        deadline = time.time() + 240
        while time.time() < deadline and not killed:
            for claim in cells.glob("*.claim/owner.json") if cells.exists() else []:
                try:
                    owner = claim.read_text()
                except OSError:
                    continue
                if '"tcp://%s.2:' % NET in owner:
                    time.sleep(0.5)
                    if claim.exists():
                        killed["cell"] = claim.parent.name[:-len(".md.claim")]
                        runs = runs_of(killed["cell"].split("-"))
                        hosts.kill("worker-a")
                        time.sleep(1)
                        # the worker's prunelang died with it (PR_SET_PDEATHSIG), computing for nobody no more
                        killed["orphans"] = [pid for pid in runs if alive(pid)]
                        killed["runs"] = runs
                        return
            time.sleep(0.05)

    t = threading.Thread(target=killer)
    t.start()
    out, err = driver.communicate(timeout=300)
    t.join()
    print(err)
    assert driver.returncode == 0, err[-3000:]
    assert killed, "host A never claimed a cell: " + err[-2000:]
    assert killed["runs"] and not killed["orphans"], killed
    assert out == serial
    seen = progress(err)
    assert len(seen) == 8 and all(how == "computed" for how, _ in seen.values()), err
    # The killed cell was recomputed on host B; cells A finished before dying stay A's.
    assert seen[killed["cell"]][1].startswith("tcp://%s.3:" % NET), (killed, seen)
    assert {w.split(":")[1] for _, w in seen.values()} <= {"//%s.2" % NET, "//%s.3" % NET}
    assert not list(cells.glob("*.claim")) and not list(cells.glob("*.tmp"))
    for f in (tmp_path / "serial").iterdir():
        assert (cells / f.name).read_text() == f.read_text()


def bench(cells_n=16, k=40):
    """Wall time of a grid of CELLS_N cells (600×600, K matrices each, one OpenBLAS thread) on the serial
    path and on 1 and 2 worker hosts in the namespaces (the driver in the scheduler's namespace, timed from
    its start: connecting included); printed as Markdown rows, the documents checked equal."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        grid = ["600", " ".join(map(str, range(cells_n))), str(k)]
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        t = time.time()
        r = prunegrid(script(d), *grid, "--cells", d / "serial", "--serial", timeout=3000)
        rows = [("serial path (no Dask), one OpenBLAS thread", time.time() - t)]
        assert r.returncode == 0, r.stderr
        serial = r.stdout
        for workers in (("a",), ("a", "b")):
            h = Hosts(d)
            h.up()
            try:
                h.cluster(workers)
                t = time.time()
                r = prunegrid(script(d), *grid, "--cells", d / ("w%d" % len(workers)), "--scheduler", h.scheduler,
                              "--wait-workers", str(len(workers)), ns=h.s, timeout=3000)
                rows.append(("Dask, %d worker host(s) in namespaces" % len(workers), time.time() - t))
                assert r.returncode == 0 and r.stdout == serial, r.stderr
            finally:
                h.down()
        for name, secs in rows:
            print("| %s | %d | %.1f s | %.2f s |" % (name, cells_n, secs, secs / cells_n))
        print("speed-up 2 vs 1 worker: %.2fx; Dask overhead per cell (1 worker vs serial): %.3f s"
              % (rows[1][1] / rows[2][1], (rows[1][1] - rows[0][1]) / cells_n))


if __name__ == "__main__" and sys.argv[1:2] == ["bench"]:
    bench(*map(int, sys.argv[2:4]))
