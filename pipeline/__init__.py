"""jixiao: check budget units' annual performance self-evaluation workbooks (绩效自评审核).

Data flow: file → grid (read.py) → points and indicator rows (extract.py) → findings (validate.py)
→ annotated workbook (annotate.py) / JSON; templates (template.py) come from the same form definitions.
"""

__version__ = "0.1.0"
