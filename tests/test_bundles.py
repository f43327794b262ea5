"""Bundles (.zip) in the inbox: unpacked under guards, members processed one by one, exactly once after a crash.

Hostile bundles are refused whole with a Chinese reason (a `../` member, a link, a zip bomb); a GBK-named
member (no UTF-8 flag, as Windows' own zip writes it) is read by its real name; .rar and .ofd are refused
saying what to send instead; a real run killed while a bundle's members are in flight ends exactly once.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from pipeline.batch import bundles, kinds
from pipeline.errors import OutputError, RejectedFile
from tests.test_batch import SAMPLES, _count, _jixiao, _kill_when, age, files, rows, run, sha
from tests.test_inbox_reports import JINSHA, SONGTAO, report
from tests.test_output_faults import _fd_path, full, inject

WORKBOOK = SAMPLES / "松涛区水利工程管理站_2023.xlsx"


def bundle(path: Path, members: dict[str, bytes], *, link: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return age(path)


def unflagged_bundle(path: Path, name: str, data: bytes, encoding: str) -> Path:
    """A member named in `encoding` without the UTF-8 flag: the name written as ASCII of the same length,
    then its bytes replaced in both headers."""
    raw = name.encode(encoding)
    placeholder = "A" * (len(raw) - len(".xlsx")) + ".xlsx"
    bundle(path, {placeholder: data})
    path.write_bytes(path.read_bytes().replace(placeholder.encode("ascii"), raw))
    return age(path)


@pytest.mark.parametrize(
    ("members", "link", "code", "words"),
    [
        ({"../逃逸.xlsx": WORKBOOK.read_bytes()}, None, "bundle_path", "指向压缩包以外"),
        ({"a.xlsx": WORKBOOK.read_bytes()}, "快捷方式.xlsx", "bundle_link", "是链接而不是文件"),
        ({"炸弹.xlsx": b"\0" * (3 * 1024 * 1024)}, None, "zip_bomb", "压缩炸弹"),
        ({"/etc/evil.xlsx": b"x"}, None, "bundle_path", "指向压缩包以外"),
    ],
    ids=["dotdot", "symlink", "bomb", "absolute"],
)
def test_a_hostile_bundle_is_refused_whole_with_its_reason(
    tmp_path: Path, members: dict[str, bytes], link: str | None, code: str, words: str
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    bundle(inbox / "材料.zip", members, link=link)
    with pytest.raises(RejectedFile) as refused:
        bundles.members(inbox / "材料.zip")
    assert refused.value.code == code and words in refused.value.reason

    report = run(inbox, out)
    [outcome] = report.outcomes  # type: ignore[attr-defined]
    assert (outcome.status, outcome.kind) == ("rejected", "bundle") and words in outcome.reason
    assert files(out / "refused") == ["材料.zip"]
    assert rows(out, "SELECT COUNT(*) FROM submissions WHERE bundle_id IS NOT NULL") == [(0,)]  # nothing unpacked
    assert not (tmp_path / "逃逸.xlsx").exists() and not list(out.rglob("逃逸*"))


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])  # Windows' own zip; some Mac and Linux tools
def test_an_unflagged_member_name_is_read_right_and_named_with_its_bundle(tmp_path: Path, encoding: str) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    path = unflagged_bundle(inbox / "材料.zip", "松涛区水利工程管理站.xlsx", WORKBOOK.read_bytes(), encoding)
    with zipfile.ZipFile(path) as zf:
        [info] = zf.infolist()
        assert not info.flag_bits & 0x800 and info.filename != "松涛区水利工程管理站.xlsx"  # as zipfile reads it
    assert [m.name for m in bundles.members(path)] == ["松涛区水利工程管理站.xlsx"]

    run(inbox, out)
    assert rows(out, "SELECT original_path, kind, status, unit, dest_path FROM submissions ORDER BY id") == [
        ("材料.zip", "bundle", "ok", None, "processed/材料.zip"),
        ("材料.zip › 松涛区水利工程管理站.xlsx", "workbook", "ok", "松涛区水利工程管理站", None),
    ]
    assert files(out / "processed") == ["材料.zip"] and files(inbox) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [("报告.ofd", kinds.MSG_OFD), ("材料.rar", kinds.MSG_UNREAD_BUNDLE.format(ext=".rar"))],
)
def test_ofd_and_rar_are_refused_saying_what_to_send(tmp_path: Path, name: str, message: str) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    age(Path(shutil.copyfile(WORKBOOK, inbox / name)))  # whatever the bytes: not read as a workbook
    [outcome] = run(inbox, out).outcomes  # type: ignore[attr-defined]
    assert (outcome.status, outcome.reason) == ("rejected", message)


def test_a_nested_zip_is_refused_and_its_siblings_are_checked(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    inner = bundle(tmp_path / "inner.zip", {"x.xlsx": WORKBOOK.read_bytes()})
    bundle(inbox / "材料.zip", {"内层.zip": inner.read_bytes(), "表.xlsx": WORKBOOK.read_bytes()})
    statuses = {o.original: (o.status, o.reason) for o in run(inbox, out).outcomes}  # type: ignore[attr-defined]
    assert statuses["材料.zip › 内层.zip"] == ("rejected", kinds.MSG_NESTED.format(name="内层.zip"))
    assert statuses["材料.zip › 表.xlsx"] == ("ok", None)


def test_a_crash_before_the_members_are_recorded_then_a_rerun_ends_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    bundle(inbox / "材料.zip", {"表.xlsx": WORKBOOK.read_bytes(), "说明.txt": "见附件".encode()})

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # as sudden as a kill: the members are archived, not yet recorded

    monkeypatch.setattr(bundles.Ledger, "record_checks", crash)
    with pytest.raises(KeyboardInterrupt):
        run(inbox, out)
    assert rows(out, "SELECT original_path, state FROM submissions") == [("材料.zip", "received")]
    monkeypatch.undo()

    run(inbox, out)
    assert rows(out, "SELECT original_path, state, status FROM submissions ORDER BY id") == [
        ("材料.zip", "filed", "ok"),
        ("材料.zip › 表.xlsx", "filed", "ok"),
        ("材料.zip › 说明.txt", "filed", "rejected"),
    ]
    assert files(out / "processed") == ["材料.zip"] and files(inbox) == []


def test_sigkill_with_a_bundle_in_flight_then_rerun_ends_exactly_once(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    samples = sorted(SAMPLES.glob("*.xlsx"))
    packed = samples[2:]
    jinsha, songtao = report(tmp_path / "金沙.docx", JINSHA), report(inbox / "松涛区报告.docx", SONGTAO)
    members = {f"{i}/{p.name}": p.read_bytes() for i, p in enumerate(packed)} | {"金沙报告.docx": jinsha.read_bytes()}
    bundle(inbox / "材料.zip", members)
    for p in samples[:2]:
        age(Path(shutil.copyfile(p, inbox / p.name)))
    inputs = {p.name: sha(p) for p in inbox.iterdir()}
    assert songtao.name in inputs

    proc = _jixiao("run", str(inbox), "--out", str(out), "--workers", "2", delay=0.05)
    member = "bundle_id IS NOT NULL"
    _kill_when(proc, out, "kind = 'bundle' AND state = 'checked'", 1)  # unpacked: its members are in flight
    assert _count(out, "state = 'filed' AND kind = 'bundle'") == 0, "the kill should land before the bundle is filed"
    assert _count(out, f"{member} AND state = 'filed'") < len(members)

    proc = _jixiao("run", str(inbox), "--out", str(out), "--workers", "2")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (0, 1), stderr
    assert files(inbox) == []
    assert sorted(files(out / "processed")) == sorted(inputs)
    assert all(sha(out / "processed" / name) == digest for name, digest in inputs.items())
    member_rows = rows(out, f"SELECT original_path, state, duplicate_of FROM submissions WHERE {member}")
    assert sorted(r[0] for r in member_rows) == sorted(f"材料.zip › {name}" for name in members)
    assert {(state, dup) for _, state, dup in member_rows} == {("filed", None)}  # each member once
    assert rows(out, "SELECT COUNT(*) FROM submissions WHERE state != 'filed'") == [(0,)]
    assert rows(out, "SELECT unit FROM reports ORDER BY unit") == [("松涛区水利工程管理站",), ("金沙县文化馆",)]


def test_a_full_disk_while_archiving_members_stops_the_run_and_the_rerun_ends_exactly_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    bundle(
        inbox / "材料.zip",
        {"表.xlsx": WORKBOOK.read_bytes(), "附表.xlsx": (SAMPLES / "金沙县文化馆_2023.xlsx").read_bytes()},
    )
    fault = inject(monkeypatch, "os.fsync", full(), when=lambda fd: "/archive/.tmp-" in _fd_path(fd), nth=2)
    with pytest.raises(OutputError, match=r"输出目录无法写入，已停止.*磁盘已满"):
        run(inbox, out)
    assert fault.raised and files(inbox) == ["材料.zip"]
    assert rows(out, "SELECT original_path, state FROM submissions") == [("材料.zip", "received")]
    fault.active = False

    run(inbox, out)
    assert rows(out, "SELECT original_path, state, status FROM submissions ORDER BY id") == [
        ("材料.zip", "filed", "ok"),
        ("材料.zip › 表.xlsx", "filed", "ok"),
        ("材料.zip › 附表.xlsx", "filed", "ok"),
    ]
    assert files(out / "processed") == ["材料.zip"] and not list(out.rglob(".tmp-*"))


def test_a_full_disk_while_rewriting_a_paired_workbook_is_redone_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    age(Path(shutil.copyfile(WORKBOOK, inbox / WORKBOOK.name)))
    run(inbox, out)
    report(inbox / "松涛区报告.docx", SONGTAO, fault="total")
    fault = inject(
        monkeypatch,
        "pipeline.report.annotate.patch_package",
        full(),
        when=lambda src, dest, **kw: "/results/" in str(dest),
    )
    with pytest.raises(OutputError, match="磁盘已满"):
        run(inbox, out)
    assert fault.raised and files(inbox) == []  # the report itself is filed: only the pair's check is left
    assert rows(out, "SELECT unit, workbook_id FROM reports") == [(None, None)]
    assert rows(out, "SELECT COUNT(*) FROM findings WHERE rule LIKE 'RPT.%'") == [(0,)]
    fault.active = False

    again = run(inbox, out)  # nothing new in the inbox: the pair is checked all the same
    assert again.paired == [("松涛区报告.docx", WORKBOOK.name)]  # type: ignore[attr-defined]
    assert rows(out, "SELECT COUNT(*) FROM findings WHERE rule = 'RPT.FIGURE'") == [(1,)]
    [(output,)] = rows(out, "SELECT output_path FROM submissions WHERE kind = 'workbook'")
    assert (out / output).is_file() and not list(out.rglob(".*.tmp"))


def test_a_member_in_an_overlong_folder_gets_a_safe_output_name(tmp_path: Path) -> None:
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    errors = (SAMPLES / "白云区市场监督服务中心_2023.xlsx").read_bytes()  # has errors: an annotated copy is written
    bundle(inbox / "材料.zip", {f"{'很长的目录名' * 30}/表.xlsx": errors})
    [member] = [o for o in run(inbox, out).outcomes if o.kind == "workbook"]  # type: ignore[attr-defined]
    assert member.status == "errors" and member.output is not None and member.output.is_file()
    assert all(len(part.encode()) <= 150 for part in member.output.relative_to(out).parts)
