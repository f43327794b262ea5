"""Faults for synthetic submissions (pipeline/synth/corpus.py), and where their findings point.

Each fault changes a unit's draft the way units get forms wrong — before writing (values, indicator
rows, inserted rows) or after (a retitled or deleted sheet, a relabelled row) — and records with
`Draft.expect` every finding the catalogue says it must raise. Faults keep the rest of the workbook
consistent (a score raised on one indicator is added to 总分 too, a split moved between 基本支出 and
项目支出 still adds up), so that each fault raises exactly the findings it records. Faults that could
interact share a tag and never go into the same workbook.

Deltas are chosen beyond the tolerance the written precision gives (docs/rules.md "Tolerance"): a fault the
tolerance model forgives is no fault. `locate` then finds the cell each finding points at first by
reading the written workbook back with python-calamine and the form definitions' labels — not with
jixiao's extractor, so the key does not inherit its mistakes.

One module per fault family, each registering its faults in `base.FAULTS` when imported (every reader of
the registry sorts it, so import order does not matter): sums, ratios, scores (and weights), cross_sheet,
completeness, plausibility, slips.
`edit` rewrites a written workbook in place, `locate` finds the cells.
"""

from pipeline.synth.faults import (  # noqa: F401  (importing a family registers its faults)
    completeness,
    cross_sheet,
    plausibility,
    ratios,
    scores,
    slips,
    sums,
)
from pipeline.synth.faults.base import FAULTS, Fault, add_extras, inject
from pipeline.synth.faults.edit import formula_totals, rewrite_zip
from pipeline.synth.faults.locate import locate

__all__ = ["FAULTS", "Fault", "add_extras", "formula_totals", "inject", "locate", "rewrite_zip"]
