"""prunegrid: experiment grids of PruneLang runs on Dask.

A grid is a list of cells; a cell is one run of `prunelang run SCRIPT ARG ...` whose printed rows are
kept in the cells folder as NAME.md. The cells run as Dask tasks on a local cluster (the default), on
a running Dask scheduler or on a Slurm cluster (dask-jobqueue), or one after another in this process
(the serial path). `python -m prunegrid --help` (with scripts/ on PYTHONPATH) says how to call it.

Files: cells.py (what a cell is, its file, its rows), claim.py (claims on cells shared across hosts),
task.py (the task a worker runs), clusters.py (local, scheduler, Slurm), progress.py (the line per
finished cell), grid.py (runs a grid), cli.py and __main__.py (the command line).
"""
