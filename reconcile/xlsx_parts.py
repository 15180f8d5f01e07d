"""What the fast reader does not give: cell fonts (encoding evidence) and formulas that have no
computed value. Both are looked up only when the workbook's parts say they are there, so an
ordinary file pays nothing for them."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection
from pathlib import Path
from xml.etree import ElementTree

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_ANY_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_LEGACY_FONT = re.compile(rb'<(?:\w+:)?name val="(\.vn[^"]*|vni[^"]*)"', re.IGNORECASE)


def may_hold_formulas(xml: bytes) -> bool:
    # two literal scans rule out most sheets at a third of the pattern's cost (which stops
    # at every "<" of 120 MB on a 300,000-row sheet)
    return (b"<f" in xml or b":f" in xml) and _ANY_FORMULA.search(xml) is not None


def _is_xlsx(path: Path) -> bool:
    return zipfile.is_zipfile(path)


def has_legacy_fonts(path: Path) -> bool:
    """True when the workbook defines a TCVN3 (.Vn…) or VNI font at all."""
    if not _is_xlsx(path):
        return False
    with zipfile.ZipFile(path) as archive:
        try:
            return bool(_LEGACY_FONT.search(archive.read("xl/styles.xml")))
        except KeyError:
            return False


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the part holding its cells."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.findall("rel:Relationship", _NS)}
    parts = {}
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        target = target.lstrip("/")
        parts[sheet.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return parts


def _uncomputed_in(stream) -> dict[tuple[int, int], str]:
    """Formulas without a saved value in one sheet part, parsed as XML (any namespace prefix,
    `<x:c>` as well as `<c>`); a shared formula's children get the master's formula moved to
    their own cell, as Excel shows them."""
    from openpyxl.formula.translate import Translator
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    masters: dict[str, tuple[str, str]] = {}
    cells: dict[tuple[int, int], str] = {}
    for _, element in ElementTree.iterparse(stream, events=("end",)):
        if not element.tag.endswith("}c") and element.tag != "c":
            continue
        formula = value = None
        for child in element:
            tag = child.tag.rsplit("}", 1)[-1]
            if tag == "f":
                formula = child
            elif tag == "v" and child.text:
                value = child.text
        ref = element.get("r")
        if formula is not None and ref:
            text = formula.text or ""
            shared = formula.get("t") == "shared"
            if shared and text:
                masters[formula.get("si", "")] = ("=" + text, ref)
            elif shared and formula.get("si", "") in masters:
                master, origin = masters[formula.get("si", "")]
                text = Translator(master, origin=origin).translate_formula(ref)[1:]
            if value is None and text:
                letters, row = coordinate_from_string(ref)
                cells[(row, column_index_from_string(letters) - 1)] = "=" + text
        element.clear()
    return cells


def uncomputed_formulas(
    path: Path, sheets: Collection[str] | None = None
) -> dict[str, dict[tuple[int, int], str]]:
    """Sheet → {(Excel row, 0-based column): formula text} for formulas with no saved value.

    A file saved by Excel has a value beside each formula; one written by a script may not, and
    the fast reader then sees an empty cell where the officer's file shows a formula.
    `sheets`: only these (the others are known to hold no formula); None: every sheet."""
    if not _is_xlsx(path) or (sheets is not None and not sheets):
        return {}
    found: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(path) as archive:
        try:
            parts = sheet_parts(archive)
        except (KeyError, ElementTree.ParseError):
            return {}
        for name, part in parts.items():
            if sheets is not None and name not in sheets:
                continue
            try:
                xml = archive.read(part)
                if not may_hold_formulas(xml):  # most sheets hold no formula at all
                    continue
                cells = _uncomputed_in(io.BytesIO(xml))
            except (KeyError, ElementTree.ParseError):
                continue
            if cells:
                found[name] = cells
    return found


def cell_fonts(
    path: Path, sheet: str, first_row: int, last_row: int, columns: list[int]
) -> dict[tuple[int, int], str]:
    """{(Excel row, 0-based column): font name} for the given rows and columns."""
    from openpyxl import load_workbook

    fonts: dict[tuple[int, int], str] = {}
    if not columns:
        return fonts
    workbook = load_workbook(path, read_only=True)
    try:
        worksheet = workbook[sheet]
        lo, hi = min(columns), max(columns)
        wanted = set(columns)
        for offset, row in enumerate(
            worksheet.iter_rows(min_row=first_row, max_row=last_row, min_col=lo + 1, max_col=hi + 1)
        ):
            for col, cell in enumerate(row, start=lo):
                if col in wanted and getattr(cell, "font", None) is not None:
                    fonts[(first_row + offset, col)] = cell.font.name
    finally:
        workbook.close()
    return fonts
