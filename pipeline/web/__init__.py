"""The portal (`jixiao serve`): units check and submit in a browser, reviewers decide in one.

In: HTTP requests — uploads of a workbook (and its 自评报告) to self-check, a unit's 提交码 to submit a checked
file, a reviewer's login and decisions — and the output folder of a season (its ledger, roster, 汇总).
`checks` keeps self-checks (streamed to disk by `uploads`, read by the warm `checker`: the batch's byte gate and
isolated reader workers, one validate call for the uploads that arrive together); `submit` writes a checked
file into the inbox, which the batch engine's watch loop (run by `serve`) takes like any other; `security` holds
sessions, CSRF, throttling and headers; the `views_*` modules are thin routes over the library.
Out: HTML pages (Jinja templates and one CSS file shipped in the package), the JSON of `jixiao check --json`,
annotated workbooks and 汇总 downloads by id, 审核意见 stored where `jixiao review` stores them, inbox files.
"""
