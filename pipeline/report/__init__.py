"""Reports: results and ledger rows in, workbooks a reviewer opens out.

In: a `Result` and its `Grid` (annotate, with the unit's own look read by `styles` and the 批注 made by
`comments`), or the ledger (summary, with `summary_data`, `summary_layout` and `summary_totals`), or the form
definitions, a profile and optionally a `Filling` (template, laying out each sheet with `template_sheet`).
Out: `<stem>_审核结果.xlsx` per file, `汇总_{Y}.xlsx` per year, the official blank template (or, given a
`filling`, a unit's workbook). The outputs of a batch go through a temporary file and an atomic rename.
"""
