"""Self-checks kept for a day: each in OUT/.portal-checks/<id>/, the id random and the only way to it.

A check's folder holds the upload under jixiao's names (`工作簿<ext>`, `自评报告<ext>`), `result.json` (what the
page shows: one element of `jixiao check --json` per file, with the client's file name as `file`, plus the
status text and counts) and, once asked for, the annotated workbook. Nothing goes into the ledger.
Folders older than `PORTAL_KEEP_S` are deleted by `sweep`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from pipeline import settings
from pipeline.check import WORKBOOK_SUFFIXES, write_result_workbook
from pipeline.model import Result
from pipeline.read.report_text import is_report
from pipeline.store.files import cannot_write
from pipeline.web.checker import Checker
from pipeline.web.uploads import Saved, Upload

log = logging.getLogger(__name__)

CHECKS_DIR = ".portal-checks"
WORKBOOK_STEM, REPORT_STEM = "工作簿", "自评报告"
RESULT_JSON = "result.json"
_ID_RE = re.compile(r"[A-Za-z0-9_-]{20,40}")
_CACHED = 64  # results kept in memory for the annotated download (else the upload is checked again)

MSG_NO_WORKBOOK = "请选择要审核的工作簿（.xlsx、.xls 或 .ods）"
MSG_BAD_REPORT = "自评报告须为 .docx 或 .pdf 文件"


class CheckInputError(ValueError):
    """An upload the self-check cannot take (no workbook, a report of the wrong kind); Chinese message."""


@dataclass(slots=True)
class CheckRecord:
    id: str
    created: float
    workbook: str  # the client's file names, safe, for display
    report: str | None
    results: list[dict[str, Any]]

    @property
    def main(self) -> dict[str, Any]:
        return self.results[0]


def result_view(result: Result, shown_name: str) -> dict[str, Any]:
    """One element of `jixiao check --json`, `file` being the name the unit uploaded; with what the page shows."""
    data = result.to_dict()
    data["file"] = shown_name
    data["status_text"] = result.status_text
    data["errors"] = result.errors
    data["warnings"] = sum(f.level == "warning" for f in result.findings)
    return data


class Checks:
    """The self-checks of one output folder."""

    def __init__(self, out: Path, checker: Checker, *, keep_s: float = settings.PORTAL_KEEP_S) -> None:
        self.root = Path(out) / CHECKS_DIR
        self.checker, self.keep_s = checker, keep_s
        self._results: OrderedDict[str, Result] = OrderedDict()
        self._lock = threading.Lock()

    def new_folder(self) -> tuple[str, Path]:
        """A fresh check id and its folder (owner-only)."""
        cid = secrets.token_urlsafe(18)
        folder = self.root / cid
        try:
            self.root.mkdir(mode=0o700, exist_ok=True)
            folder.mkdir(mode=0o700)
        except OSError as exc:
            raise cannot_write(f"文件夹 {self.root}", exc) from exc
        return cid, folder

    def folder(self, cid: str) -> Path | None:
        """The folder of check `cid`, None for an id that is malformed, unknown or expired."""
        if not _ID_RE.fullmatch(cid):
            return None
        folder = self.root / cid
        return folder if (folder / RESULT_JSON).is_file() else None

    def discard(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def run(self, cid: str, folder: Path, upload: Upload) -> CheckRecord:
        """Check the upload in `folder` (its `workbook` and optional `report` files) and keep the result."""
        workbook, report = upload.file("workbook") or upload.file("file"), upload.file("report")
        if workbook is None:
            raise CheckInputError(MSG_NO_WORKBOOK)
        suffix = Path(workbook.client_name).suffix.lower()
        book_path = _rename(workbook, folder / f"{WORKBOOK_STEM}{suffix if suffix in WORKBOOK_SUFFIXES else '.xlsx'}")
        report_path = None
        if report is not None:
            report_path = folder / f"{REPORT_STEM}{Path(report.client_name).suffix.lower()}"
            if not is_report(report_path):
                raise CheckInputError(MSG_BAD_REPORT)
            _rename(report, report_path)
        [result] = self.checker.check(book_path, report_path)
        record = CheckRecord(
            cid,
            time.time(),
            workbook.client_name,
            report.client_name if report else None,
            [result_view(result, workbook.client_name)],
        )
        _write_json(folder / RESULT_JSON, _as_dict(record))
        with self._lock:
            self._results[cid] = result
            while len(self._results) > _CACHED:
                self._results.popitem(last=False)
        return record

    def load(self, cid: str) -> CheckRecord | None:
        folder = self.folder(cid)
        if folder is None:
            return None
        data = json.loads((folder / RESULT_JSON).read_text(encoding="utf-8"))
        return CheckRecord(**data)

    def workbook_path(self, cid: str) -> Path | None:
        return self._upload(cid, WORKBOOK_STEM)

    def report_path(self, cid: str) -> Path | None:
        """The 自评报告 uploaded with check `cid`, if one was."""
        return self._upload(cid, REPORT_STEM)

    def _upload(self, cid: str, stem: str) -> Path | None:
        folder = self.folder(cid)
        if folder is None:
            return None
        return next((p for p in folder.iterdir() if p.stem == stem), None)

    def annotated(self, cid: str) -> Path | None:
        """The annotated workbook of check `cid`, written on first request."""
        folder, book = self.folder(cid), self.workbook_path(cid)
        if folder is None or book is None:
            return None
        with self._lock:
            result = self._results.get(cid)
        if result is None:  # checked before a restart, or pushed out of the cache: check it again
            result = self.checker.check(book)[0]
        with self._lock:  # one writer per check at a time (two downloads at once)
            done = folder / f"{WORKBOOK_STEM}{settings.RESULT_SUFFIX}"
            return done if done.is_file() else write_result_workbook(result, folder)

    def sweep(self, now: float | None = None) -> int:
        """Delete the checks older than `keep_s`; returns how many."""
        now = time.time() if now is None else now
        removed = 0
        try:
            folders = list(self.root.iterdir())
        except FileNotFoundError:
            return 0
        for folder in folders:
            try:
                age = now - folder.stat().st_mtime
            except OSError:
                continue
            if age > self.keep_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        if removed:
            log.info("deleted %d self-checks older than %g s", removed, self.keep_s)
        return removed


def _as_dict(record: CheckRecord) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _rename(saved: Saved, path: Path) -> Path:
    """Give an uploaded part its jixiao name in its folder."""
    os.replace(saved.path, path)
    return path


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise cannot_write(f"审核结果 {path.name}", exc) from exc
