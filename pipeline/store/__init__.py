"""What a bureau's season keeps between runs: the ledger, reviewers' decisions, the roster, OUT's shared files.

In: results of the batch run to record (`ledger`), reviewers' 审核意见 read back from the 汇总 or a copy of it
(`decisions`), the bureau's roster of units (`roster`), the summary's options (`options`), and the output folder's
lock and durable writes (`files`).
Out: entries, findings and points read back (`ledger`, `ledger_reads`), last year's figures of a unit
(`previous`), decisions and explanations by finding. `batch` and `report` (and any front end) import this layer;
it imports neither of them.
"""
