"""Tables: a data table is article text, a layout table is only scaffolding.

Told apart by structure, never by site. A table is *layout* when it says so
(role=presentation), holds blocks (paragraphs, divs, headings, lists, other
tables) or long prose cells: old portals lay whole pages out that way, and
their cells are unwrapped into blocks. A table is *data* when, besides having
none of that, it has at least two rows and two columns and either header
cells, a numeric column, or a repeated row shape: standings, results,
casualty counts, election figures, price lists.

A data table becomes one line per row, cells in order, joined by " | ": the
aligner sees a row as a sentence and diffs it word by word, so a changed cell
is an edited row with its figure delta, and a table added or removed is rows
added or deleted. Tables in menus, sidebars and comments are left alone.
"""

from __future__ import annotations

import re
from typing import Any

CELL_SEPARATOR = " | "
EMPTY_CELL = "-"
MAX_ROWS = 500
MAX_CELL_CHARS = 150  # a longer cell is prose laid out in a table

_BLOCKS = {
    "table", "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote",
    "article", "section", "form", "br",
}  # fmt: skip
_NUMERIC = re.compile(r"^[\s\-+−–(]*[\d٠-٩۰-۹][\d٠-٩۰-۹.,٫٬:/%٪\s]*[)\w%٪]*\s*$")


def _own(table: Any, tags: tuple[str, ...]) -> list[Any]:
    """Elements of `tags` that belong to this table, not to a nested one."""
    return [el for el in table.iter(*tags) if next(el.iterancestors("table"), None) is table]


def rows(table: Any) -> list[list[Any]]:
    """The table's own rows, each its own cells."""
    out = []
    for tr in _own(table, ("tr",)):
        cells = [c for c in tr if isinstance(c.tag, str) and c.tag in ("td", "th")]
        if cells:
            out.append(cells)
    return out


def is_layout(table: Any) -> bool:
    """A table used to lay out the page (old portals), not to hold data."""
    if (table.get("role") or "").lower() in ("presentation", "none"):
        return True
    for el in table.iterdescendants():
        if isinstance(el.tag, str) and el.tag in _BLOCKS:
            return True
    return any(
        len((cell.text_content() or "").strip()) > MAX_CELL_CHARS for cell in table.iter("td", "th")
    )


def cell_text(cell: Any) -> str:
    return " ".join((cell.text_content() or "").split()) or EMPTY_CELL


def is_data(table: Any) -> bool:
    """A table that holds data (see the module's docstring)."""
    if is_layout(table):
        return False
    grid = rows(table)
    if len(grid) < 2 or sum(1 for r in grid if len(r) >= 2) < 2:
        return False
    if _own(table, ("th",)) or _own(table, ("thead",)):
        return True
    width = max(len(r) for r in grid)
    for col in range(width):
        values = [cell_text(r[col]) for r in grid if col < len(r)]
        numeric = [v for v in values if _NUMERIC.match(v)]
        if values and len(numeric) * 2 >= len(values) and len(numeric) >= 2:
            return True
    shapes = [len(r) for r in grid]
    return len(grid) >= 3 and max(shapes.count(n) for n in set(shapes)) >= 3 and width >= 2


def row_lines(table: Any) -> list[str]:
    """The table as text: one line per row, cells in order (a caption first)."""
    lines = []
    caption = next(iter(_own(table, ("caption",))), None)
    if caption is not None and (text := " ".join(caption.text_content().split())):
        lines.append(text)
    for r in rows(table)[:MAX_ROWS]:
        cells = [cell_text(c) for c in r]
        if any(c != EMPTY_CELL for c in cells):
            lines.append(CELL_SEPARATOR.join(cells))
    return lines


def data_tables(root: Any, furniture: set[Any] | None = None) -> list[Any]:
    """The data tables of a page, outermost first, furniture left out."""
    skip = furniture or set()
    return [t for t in root.iter("table") if t not in skip and is_data(t)]


def rows_to_paragraphs(root: Any, furniture: set[Any] | None = None) -> int:
    """Replace each data table by one <p> per row, where it stood; returns how many."""
    tables = data_tables(root, furniture)
    for table in reversed(tables):  # innermost first: a nested table is replaced whole
        if table.getparent() is None:
            continue
        lines = row_lines(table)
        holder = table.makeelement("div", {"class": "raqib-table"})
        for line in lines:
            p = holder.makeelement("p", {})
            p.text = line
            holder.append(p)
        holder.tail = table.tail
        table.getparent().replace(table, holder)
    return len(tables)
