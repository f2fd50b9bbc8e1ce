"""Present an analysis: terminal text (colour optional), standalone HTML, JSON.

Article text is untrusted. The terminal view builds rich Text objects (never
markup strings), the HTML view goes through Jinja2 with autoescape on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.text import Text

from raqib.diffs.align import Item
from raqib.diffs.classify import Analysis
from raqib.diffs.words import DELETE, EQUAL, INSERT, mark_cosmetic, word_diff

RTL_LANGS = ("ar", "fa", "ur", "he", "ps", "ckb", "yi", "dv", "sd", "ug")

# Inline styles survive e-mail clients and feed readers that drop <style>.
DEL_STYLE = "background:#ffd7d5;color:#82071e;text-decoration:line-through"
INS_STYLE = "background:#ccffd8;color:#055d20;text-decoration:none"
COSMETIC_STYLE = "background:#eef1f4;color:#57606a;text-decoration:none"


@dataclass
class DiffMeta:
    url: str
    from_version: int
    to_version: int
    from_seen: str | None = None
    to_seen: str | None = None
    old_title: str = ""
    new_title: str = ""
    language: str | None = None

    def to_json(self) -> dict[str, Any]:
        """What `diff --format json` says about the versions compared."""
        return {
            "url": self.url,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "from_seen": self.from_seen,
            "to_seen": self.to_seen,
            "old_title": self.old_title,
            "new_title": self.new_title,
        }


def direction(language: str | None, sample: str = "") -> str:
    """rtl for right-to-left languages, or when the text is mostly Arabic script."""
    if language and language.split("-")[0].lower() in RTL_LANGS:
        return "rtl"
    letters = [ch for ch in sample[:2000] if ch.isalpha()]
    if letters:
        rtl = sum(1 for ch in letters if "\u0590" <= ch <= "\u08ff" or "\ufb1d" <= ch <= "\ufeff")
        if rtl * 2 > len(letters):
            return "rtl"
    return "ltr"


def lang_of(language: str | None, sample: str = "") -> str:
    if language:
        return language.split("-")[0].lower()[:8]
    return "ar" if direction(None, sample) == "rtl" else "und"


LABELS = {
    "edit": "edited",
    "add": "added",
    "delete": "deleted",
    "move": "moved",
    "cosmetic": "cosmetic",
    "unchanged": "",
}


# --- terminal ------------------------------------------------------------


def _ops_text(ops: list[tuple[int, str]], out: Text, markers: bool) -> None:
    for op, chunk, cosmetic in mark_cosmetic(ops):
        if op == EQUAL:
            out.append(chunk)
        elif op == DELETE:
            out.append(
                f"[-{chunk}-]" if markers else chunk,
                style="dim strike" if cosmetic else "bold red strike",
            )
        elif op == INSERT:
            out.append(
                f"{{+{chunk}+}}" if markers else chunk, style="dim" if cosmetic else "bold green"
            )


def _label(it: Item) -> str:
    if it.label == "move" and it.old and it.new:
        return f"moved ¶{it.old.para + 1}→¶{it.new.para + 1}"
    return LABELS[it.label]


# Unicode bidi isolates: a terminal that runs the bidi algorithm lays out
# an Arabic sentence right to left without reordering the label beside it.
RLI, FSI, PDI = "\u2067", "\u2068", "\u2069"


def to_text(
    analysis: Analysis,
    meta: DiffMeta,
    *,
    markers: bool = True,
    context: bool = False,
    isolate: bool = False,
) -> Text:
    """A terminal view: header, signals, fact deltas, then each changed sentence.

    `markers` wraps deletions in [-…-] and insertions in {+…+}, with or
    without colour: a copied line or a screen reader keeps old and new apart.
    `isolate` wraps article text in bidi isolates (right-to-left ones for a
    right-to-left article).
    """
    sample = " ".join(it.new.text for it in analysis.items[:5] if it.new) or meta.new_title
    opening = (RLI if direction(meta.language, sample) == "rtl" else FSI) if isolate else ""
    closing = PDI if isolate else ""
    t = Text()
    t.append(f"{meta.url}\n", style="bold")
    t.append(
        f"version {meta.from_version} ({meta.from_seen}) → version {meta.to_version} ({meta.to_seen})\n"
    )
    verdict = analysis.kind + (", SILENT" if analysis.silent else "")
    t.append("change: ")
    t.append(
        verdict,
        style="bold red"
        if analysis.silent
        else "bold yellow"
        if analysis.kind == "substantive"
        else "dim",
    )
    c = analysis.counts
    t.append(
        f"  ({c['add']} added, {c['delete']} deleted, {c['edit']} edited, {c['move']} moved, "
        f"{c['cosmetic']} cosmetic sentences; {analysis.chars_changed} characters)\n"
    )
    if analysis.error:
        t.append(
            f"analysis failed: {analysis.error}\n  sentences are shown kept or replaced whole; "
            "figures and quotes may be missing: compare the versions themselves\n",
            style="bold red",
        )
    if analysis.headline_changed:
        t.append("headline: " + opening, style="bold")
        _ops_text(word_diff(meta.old_title, meta.new_title), t, markers)
        t.append(closing + "\n")
    if analysis.byline_changed:
        t.append("byline changed\n", style="bold")
    for s in analysis.signals:
        t.append(f"update signal: {s}\n", style="cyan")
    if not analysis.signals and analysis.kind == "substantive":
        t.append(
            "update signal: none (no new modified date, no update or correction line)\n",
            style="red",
        )
    for kind, title in (("numbers", "figures"), ("quotes", "quotation"), ("negations", "negation")):
        for d in analysis.facts.get(kind, []):
            t.append(f"{title}: ", style="bold magenta")
            if d["removed"]:
                t.append("removed ")
                t.append(" | ".join(d["removed"]), style="red strike")
            if d["removed"] and d["added"]:
                t.append("; ")
            if d["added"]:
                t.append("added ")
                t.append(" | ".join(d["added"]), style="green")
            t.append("\n")
    t.append("\n")
    for it in analysis.items:
        if it.label == "unchanged" and not context:
            continue
        para = it.sentence.para + 1
        label = _label(it)
        t.append(
            f"[{label}{f' {it.similarity:.2f}' if it.label == 'edit' else ''}] ¶{para}  ",
            style="bold",
        )
        t.append(opening)
        if it.label == "add" and it.new:
            t.append(f"{{+{it.new.text}+}}" if markers else it.new.text, style="bold green")
        elif it.label == "delete" and it.old:
            t.append(f"[-{it.old.text}-]" if markers else it.old.text, style="bold red strike")
        elif it.ops:
            _ops_text(it.ops, t, markers)
        elif it.new:
            t.append(it.new.text)
        t.append(closing + "\n")
    return t


# --- HTML ----------------------------------------------------------------

_env = Environment(
    loader=PackageLoader("raqib.diffs", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def html_env() -> Environment:
    """The Jinja2 environment (autoescape on) the report reuses for its pages."""
    return _env


def segments(it: Item) -> list[dict[str, Any]]:
    """Word-level pieces of one aligned sentence for templates: kind + text."""
    if it.label == "add" and it.new:
        return [{"kind": "ins", "text": it.new.text, "cosmetic": False}]
    if it.label == "delete" and it.old:
        return [{"kind": "del", "text": it.old.text, "cosmetic": False}]
    if not it.ops:
        return [
            {
                "kind": "same",
                "text": it.sentence.text,
                "cosmetic": False,
            }
        ]
    kinds = {EQUAL: "same", DELETE: "del", INSERT: "ins"}
    return [
        {"kind": kinds[op], "text": text, "cosmetic": cos}
        for op, text, cos in mark_cosmetic(it.ops)
    ]


def paragraphs_view(analysis: Analysis) -> list[dict[str, Any]]:
    """Items grouped into paragraphs of the new version (deletions where they stood)."""
    groups: list[dict[str, Any]] = []
    for it in analysis.items:
        para = it.new.para if it.new is not None else (it.old.para if it.old is not None else 0)
        side = "new" if it.new is not None else "old"
        if not groups or groups[-1]["para"] != para or groups[-1]["side"] != side:
            moved_from = analysis.moved_paragraphs.get(para) if side == "new" else None
            groups.append({"para": para, "side": side, "items": [], "moved_from": moved_from})
        groups[-1]["items"].append(
            {"label": it.label, "title": _label(it), "segments": segments(it)}
        )
    return groups


def to_html(analysis: Analysis, meta: DiffMeta) -> str:
    sample = meta.new_title + " " + " ".join(it.sentence.text for it in analysis.items[:5])
    headline = [
        {"kind": {EQUAL: "same", DELETE: "del", INSERT: "ins"}[op], "text": text, "cosmetic": cos}
        for op, text, cos in mark_cosmetic(word_diff(meta.old_title, meta.new_title))
    ]
    return _env.get_template("diff.html").render(
        a=analysis,
        meta=meta,
        dir=direction(meta.language, sample),
        lang=lang_of(meta.language, sample),
        headline=headline,
        paragraphs=paragraphs_view(analysis),
        DEL_STYLE=DEL_STYLE,
        INS_STYLE=INS_STYLE,
        COSMETIC_STYLE=COSMETIC_STYLE,
    )
