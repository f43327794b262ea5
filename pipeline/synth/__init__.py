"""Synthetic data: seeds in, fictional units' workbooks and an answer key out — for tests and benchmarks.

In: a seed, a unit count and a fault rate (`corpus.generate`, `jixiao synth`), or nothing (`samples`: the
committed sample inputs). `parts` turns a unit's figures into a consistent
`Filling`, `units` draws varied units (named by `names`); `faults` injects one fault family at a
time and says which findings each must raise; the workbooks are written by pipeline.report.template.
Out: workbooks and `.answer_key.json`; `corpus.evaluate` scores a checker's findings against the key.
The runtime never imports this package (`import pipeline.cli` leaves it unloaded; a test checks).
"""
