"""Reading: a submitted file in, a `Submission` (points and indicator rows per form sheet) out.

In: a path as a unit sent it (any extension, any content). `sniff` decides its real format from its bytes or
refuses it; `grid` reads every sheet's cell values and merged ranges (`Grid`), run in a worker process with a
memory and time cap by `isolate`; `extract` walks the sheets: `titles` finds the tables and the edition and year
of each, `sections` reads one table through the `labels` index, `points` turns cells into points (`values`
parses numbers, percentages and dates as units type them). `report_text` reads a unit's 自评报告
(.docx/.pdf/.doc) into numbered paragraphs.
Out: a `Submission` (pipeline.model), or a `RejectedFile` with a Chinese reason. Nothing here judges a value.
"""
