"""Batch runs: an inbox folder in, archived originals, a ledger and filed outputs out.

In: files dropped into an inbox (`inbox` decides which are submissions and when they are complete).
`engine` runs one pass or keeps watching: archive by sha256, record in the `ledger`, read in `workers` (through
pipeline.read), check the batch (pipeline.rules), write the outputs (pipeline.report), move the original to
processed/ or refused/. `outcomes` is what a run reports.
Out: OUT/ledger.sqlite3, OUT/archive, OUT/processed, OUT/refused, OUT/results, OUT/汇总_{Y}.xlsx and a
`RunReport`. A run killed at any point and run again processes every file exactly once.
"""
