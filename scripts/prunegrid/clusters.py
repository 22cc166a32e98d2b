"""Where the cells run: a local Dask cluster (one single-threaded worker process per core), a running
Dask scheduler (`dask scheduler` and `dask worker` started elsewhere), or a Slurm cluster through
dask-jobqueue. Each returns a Client and how many cells run at once."""
from __future__ import annotations

import logging
import os
import sys


def local(workers: int | None = None, dashboard: str = ":8787"):
    from distributed import Client, LocalCluster
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=dashboard,
                           silence_logs=logging.ERROR, env={"OPENBLAS_NUM_THREADS": "1"})
    client = Client(cluster)
    return client, n


def scheduler(address: str, wait_for: int = 1, timeout: float = 120):
    from distributed import Client
    client = Client(address, timeout=timeout)
    client.wait_for_workers(wait_for, timeout=timeout)
    return client, max(1, sum(client.nthreads().values()))


def slurm_cluster(queue: str | None = None, cores: int = 1, memory: str = "4GB", walltime: str = "04:00:00",
                  account: str | None = None, python: str | None = None, extra: list[str] | None = None):
    """The SLURMCluster for a grid: each Slurm job runs CORES single-threaded worker processes (one cell
    each, one OpenBLAS thread each) sharing MEMORY."""
    from dask_jobqueue import SLURMCluster
    return SLURMCluster(queue=queue, account=account, cores=cores, processes=cores, memory=memory,
                        walltime=walltime, python=python or sys.executable,
                        job_script_prologue=["export OPENBLAS_NUM_THREADS=1"],
                        job_extra_directives=extra or [], silence_logs=logging.ERROR)


def slurm(jobs: int = 1, wait_for: int = 1, timeout: float = 600, **options):
    from distributed import Client
    cluster = slurm_cluster(**options)
    cluster.scale(jobs=jobs)
    client = Client(cluster)
    client.wait_for_workers(wait_for, timeout=timeout)
    return client, jobs * options.get("cores", 1)
