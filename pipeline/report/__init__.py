"""Reports: results and ledger rows in, workbooks a reviewer opens out.

In: a `Result` and its `Grid` (annotate, with the unit's own look read by `styles`), or the ledger (summary,
with `summary_layout` and `summary_totals`), or the form definitions and a profile (template).
Out: `<stem>_审核结果.xlsx` per file, `汇总_{Y}.xlsx` per year, the official blank template. Every writer goes
through a temporary file and an atomic rename.
"""
