"""`python -m pipeline` runs the jixiao command line."""

from pipeline.cli import entry

raise SystemExit(entry())
