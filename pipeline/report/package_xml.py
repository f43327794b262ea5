"""SpreadsheetML held as text, for package.py: attributes of a tag, child elements, and styles.xml with
fonts, fills, borders and cell formats appended (`Styles`). Regular expressions over the part's text, not a
parse: the unit's styles part is copied as it is except for what is appended.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Level → (fill, font colour, frame colour), as ARGB.
Colours = Mapping[str, tuple[str, str, str]]


class Unpatchable(Exception):
    """The package holds something this module does not patch; rewrite the workbook instead."""


# ---------------------------------------------------------------------------------------------------
# Tags and attributes of XML held as text


def set_attr(element: str, name: str, value: str) -> str:
    """`element` (text starting with its opening tag) with attribute `name` set in that tag."""
    end = element.index(">")
    if element[end - 1] == "/":
        end -= 1
    tag = element[:end]
    pattern = re.compile(rf'(\s{name}=")[^"]*(")')
    tag = pattern.sub(rf"\g<1>{value}\g<2>", tag, count=1) if pattern.search(tag) else f'{tag} {name}="{value}"'
    return tag + element[end:]


def attr(element: str, name: str) -> str | None:
    m = re.search(rf'\s{name}="([^"]*)"', element[: element.index(">")])
    return m.group(1) if m else None


def drop_attr(element: str, name: str) -> str:
    end = element.index(">")
    return re.sub(rf'\s{name}="[^"]*"', "", element[:end], count=1) + element[end:]


def children(text: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}\b[^>]*?(?:/>|>.*?</{tag}>)", text, re.S)


# ---------------------------------------------------------------------------------------------------
# styles.xml: append fonts, fills, borders, formats


class Styles:
    _SECTIONS = (("numFmts", "numFmt"), ("fonts", "font"), ("fills", "fill"), ("borders", "border"), ("cellXfs", "xf"))

    def __init__(self, xml: bytes) -> None:
        self.text = xml.decode("utf-8")
        if "<styleSheet" not in self.text:
            raise Unpatchable("prefixed or empty styles part")
        self.items: dict[str, list[str]] = {}
        self.added: dict[str, list[str]] = {}
        for section, child in self._SECTIONS:
            m = re.search(rf"<{section}\b[^>]*?(?:/>|>(.*?)</{section}>)", self.text, re.S)
            if m is None and section != "numFmts":
                raise Unpatchable(f"styles part without {section}")
            self.items[section] = children(m.group(1) or "", child) if m else []
            self.added[section] = []
        self._marked: dict[tuple[int, str | None, str | None], int] = {}

    def add(self, section: str, element: str) -> int:
        self.added[section].append(element)
        return len(self.items[section]) + len(self.added[section]) - 1

    def xf(self, index: int) -> str:
        xfs = self.items["cellXfs"] + self.added["cellXfs"]
        return xfs[index] if 0 <= index < len(xfs) else xfs[0]

    def marked(self, index: int, fill: str | None, frame: str | None, colours: Colours) -> int:
        """The cell format `index` with the fill and font colour of level `fill`, the frame of level `frame`."""
        key = (index, fill, frame)
        if key not in self._marked:
            xf = self.xf(index)
            if fill is not None and fill in colours:
                bg, fg, _ = colours[fill]
                fonts = self.items["fonts"] + self.added["fonts"]
                font_id = int(attr(xf, "fontId") or 0)
                font = fonts[font_id] if font_id < len(fonts) else "<font/>"
                xf = set_attr(xf, "fontId", str(self.add("fonts", _coloured_font(font, fg))))
                solid = f'<patternFill patternType="solid"><fgColor rgb="{bg}"/><bgColor indexed="64"/></patternFill>'
                fill_xml = f"<fill>{solid}</fill>"
                xf = set_attr(set_attr(xf, "fillId", str(self.add("fills", fill_xml))), "applyFill", "1")
                xf = set_attr(xf, "applyFont", "1")
            if frame is not None and frame in colours:
                side = f'style="mediumDashed"><color rgb="{colours[frame][2]}"/>'
                border = "".join(f"<{s} {side}</{s}>" for s in ("left", "right", "top", "bottom"))
                xf = set_attr(xf, "borderId", str(self.add("borders", f"<border>{border}<diagonal/></border>")))
                xf = set_attr(xf, "applyBorder", "1")
            self._marked[key] = self.add("cellXfs", xf)
        return self._marked[key]

    def xml(self) -> bytes:
        text = self.text
        for section, _ in self._SECTIONS:
            if not self.added[section]:
                continue
            count = len(self.items[section]) + len(self.added[section])
            new = "".join(self.added[section])
            m = re.search(rf"<{section}\b[^>]*?(/>|>.*?</{section}>)", text, re.S)
            if m is None:  # numFmts: the first section of a styleSheet
                start = text.index(">", text.index("<styleSheet")) + 1
                text = f'{text[:start]}<numFmts count="{count}">{new}</numFmts>{text[start:]}'
                continue
            element = m.group(0)
            body = (
                element[:-2] + f">{new}</{section}>"
                if m.group(1) == "/>"
                else element.replace(f"</{section}>", f"{new}</{section}>")
            )
            text = text[: m.start()] + set_attr(body, "count", str(count)) + text[m.end() :]
        return text.encode("utf-8")


def _coloured_font(font: str, rgb: str) -> str:
    colour = f'<color rgb="{rgb}"/>'
    if font.endswith("/>") and "</font>" not in font:
        return font[:-2] + f">{colour}</font>"
    font = re.sub(r"<color\b[^>]*?(?:/>|>.*?</color>)", "", font, flags=re.S)
    at = font.find("<name")
    at = at if at >= 0 else font.rindex("</font>")
    return font[:at] + colour + font[at:]
