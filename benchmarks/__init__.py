"""Benchmarks (`make bench`, `python -m benchmarks.run`): speed, memory and accuracy on a synthetic corpus."""
