"""python -m prunegrid (with scripts/ on PYTHONPATH): see cli.py."""
import sys

from .cli import main

sys.exit(main())
