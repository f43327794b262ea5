"""`jixiao edition draft`: a schemas/forms/ edition written from a workbook of a layout jixiao does not ship.

Every self-evaluation table of the workbook is scanned by its structure (`structure.scan`); its labels and
headers are written as an edition's TOML, each mapped to a point key where the structure vocabulary says so
and marked `# ?` where it cannot tell. A bureau saves the text as a .toml file beside its profile and lists
it there (`editions = ["江苏项目表.toml"]`): the next check reads that layout as an edition
(`forms.profile_editions`), title and labels first, before any generic reading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import JixiaoError
from pipeline.forms import Form, Section, load_editions, load_forms
from pipeline.model import cell_ref
from pipeline.read.grid import read_grid
from pipeline.read.labels import SheetIndex
from pipeline.read.sniff import sniff
from pipeline.read.structure import Structure, generic_form, scan
from pipeline.read.titles import find_titles, title_core
from pipeline.read.values import normalize

MSG_NOTHING = "工作簿中没有可据以生成表样的自评表（需要含指标、指标值、完成值的绩效指标表，或含预算数、执行数的资金表）"


@dataclass(frozen=True, slots=True)
class Draft:
    """One table's edition: where the table is and the TOML text."""

    sheet: str
    cell: str
    title: str
    text: str


def draft_editions(path: Path) -> list[Draft]:
    """An edition draft for each distinct self-evaluation layout in the workbook at `path`."""
    grid = read_grid(path, fmt=sniff(path))
    drafts: list[Draft] = []
    bodies: set[str] = set()
    editions = load_editions()
    for sheet in grid.sheets:
        whole = SheetIndex.build(sheet)
        titles = find_titles(sheet, whole, editions)
        blocks = [(t.row, t.col, t.text) for t in titles] or ([(*whole.texts[0][:2], "")] if whole.texts else [])
        for n, (row, col, title) in enumerate(blocks):
            stop = blocks[n + 1][0] if n + 1 < len(blocks) else sheet.n_rows
            structure = scan(whole.block(row, stop), title)
            if not structure.self_evaluation:
                continue
            body = edition_toml(structure, title, sheet_headers(whole.block(row, stop), structure))
            if body not in bodies:
                bodies.add(body)
                drafts.append(Draft(sheet.name, cell_ref(row, col), title, body))
    if not drafts:
        raise JixiaoError(f"{MSG_NOTHING}：{path.name}")
    return drafts


def sheet_headers(index: SheetIndex, structure: Structure) -> dict[str, list[str]]:
    """The header texts of each grid no key was found for: written as `# ?` lines."""
    out: dict[str, list[str]] = {}
    for name, head in (("table", structure.funds), ("indicators", structure.indicators)):
        if head is None:
            continue
        mapped = {c for c, _ in head.columns.values()}
        first = head.first
        out[name] = [raw for r, c, _n, raw in index.texts if r == head.row and c > first and c not in mapped]
    return out


def _s(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text.strip(), ensure_ascii=False)


def edition_toml(structure: Structure, title: str, unmapped: dict[str, list[str]]) -> str:
    """The edition for one scanned table, as schemas/forms/*.toml write it."""
    form = generic_form(structure, title)
    primary = load_forms()[form.id]
    core = title_core(normalize(title))[0] if title else ""
    lines = [
        f"# 表样草稿：由 jixiao edition draft 根据表格“{title.strip() or '（无标题）'}”生成。",
        '# 另存为 .toml 文件（放在审核口径文件旁），在审核口径中写 editions = ["文件名.toml"]，',
        "# 之后的审核即按此表样读取。",
        "# 标有 # ? 的行无法判断对应的数据项：请填写 key（见 docs/forms.md）或删除该行。",
        "",
        f"id = {_s(form.id)}",
        f"name = {_s(f'{core or primary.attachment}（自定表样）')}",
        f"attachment = {_s(primary.attachment)}",
        f"title = [{_s(core or primary.title)}]",
    ]
    own = sorted(_keys(form) - _keys(primary))
    if own:
        lines.append(f"own = [{', '.join(_s(k) for k in own)}]")
    body: list[str] = []
    for sec in form.sections:
        body += ["", "[[sections]]", f"kind = {_s(sec.kind)}"]
        if sec.kind == "fields":
            body.append("rows = [")
            body += [
                f"  [{{ key = {_s(f.key)}, label = {_s(f.label)}, type = {_s(f.type)} }}]," for (f,) in sec.field_rows
            ]
            body.append("]")
        elif sec.kind == "record":
            body.append("fields = [")
            body += [f"  {{ key = {_s(f.key)}, header = {_s(f.label)}, type = {_s(f.type)} }}," for f in sec.fields]
            body.append("]")
        elif sec.kind == "table":
            body += _table_lines(sec, unmapped.get("table", []), [t for _, t in structure.fund_rows if t])
        elif sec.kind == "indicators":
            body += _indicator_lines(sec, unmapped.get("indicators", []))
    return "\n".join(lines + body) + "\n"


def _keys(form: Form) -> set[str]:
    """The field, row and column names a form's sections use (what `own` lists beyond the primary's)."""
    out: set[str] = set()
    for sec in form.sections:
        out |= {f.key for f in (*sec.fields, *(x for row in sec.field_rows for x in row)) if sec.kind != "indicators"}
        out |= {r.key for r in sec.rows}
    return out


def _table_lines(sec: Section, unmapped: list[str], labels: list[str]) -> list[str]:
    """Columns and rows of the funds table; rows the kind has no key for (整体: 基本支出) as `# ?` lines."""
    out = ["columns = ["]
    for f in sec.fields:
        typed = f", type = {_s(f.type)}" if f.type != "amount" else ""
        out.append(f"  {{ key = {_s(f.key)}, header = {_s(f.label)}{typed} }},")
    out += [f'  # {{ key = "?", header = {_s(text)} }},  # ?' for text in unmapped]
    out += ["]", "rows = ["]
    for r in sec.rows:
        only = f", only = [{', '.join(_s(k) for k in r.only)}]" if r.only else ""
        guess = "  # ? 未知的资金来源，计入其他资金" if r.key == "other" and normalize(r.label) not in _OTHER else ""
        out.append(f"  {{ key = {_s(r.key)}, label = {_s(r.label)}{only} }},{guess}")
    read = {r.label for r in sec.rows}
    out += [f'  # {{ key = "?", label = {_s(text)} }},  # ?' for text in labels if text not in read]
    out.append("]")
    if sec.first_row:
        out.append("first_row = true  # 合计行没有标签：表头下第一行有数字的行")
    return out


_OTHER = {normalize("其他资金")}


def _indicator_lines(sec: Section, unmapped: list[str]) -> list[str]:
    out = ["headers = ["]
    out += [f"  {{ key = {_s(f.key)}, header = {_s(f.label)} }}," for f in sec.fields]
    out += [f'  # {{ key = "?", header = {_s(text)} }},  # ?' for text in unmapped]
    out.append("]")
    if sec.total:
        labels = ", ".join(_s(t) for t in sec.total_labels)
        out.append(f'total = {{ label = [{labels}], weight = "sum.weight", score = "sum.score" }}')
    out.append(f"stop = [{', '.join(_s(t) for t in sec.stop)}]")
    return out
