"""Words for people: a title and a body, Arabic first, for apprise channels.

Lines that mix Arabic with Latin (URLs, version numbers) are wrapped in
directional isolates so that chat clients lay each out on its own terms.
"""

from __future__ import annotations

from typing import Any

from raqib.present import labels
from raqib.present.when import local

LRI, RLI, PDI = (
    "\N{LEFT-TO-RIGHT ISOLATE}",
    "\N{RIGHT-TO-LEFT ISOLATE}",
    "\N{POP DIRECTIONAL ISOLATE}",
)


def _ltr(text: str) -> str:
    return f"{LRI}{text}{PDI}"


def _rtl(text: str) -> str:
    return f"{RLI}{text}{PDI}"


def title(event: dict[str, Any]) -> str:
    kind = event["event"]
    head = event.get("headline") or event["url"]
    if kind == "removed":
        return f"رقيب · حُذف المقال: {head}"
    if kind == "coverage":
        return f"رقيب · تغطية جديدة: {head}"
    label, _ = labels.verdict(event["kind"], event["silent"])
    return f"رقيب · {label}: {head}"


def body(event: dict[str, Any]) -> str:
    kind = event["event"]
    lines = [_rtl(event.get("headline") or ""), _ltr(event["url"])]
    if kind == "removed":
        lines.append(
            f"لم تعد الصفحة متاحة (HTTP {event.get('status')}) · {_ltr(local(event['detected_at']))}"
        )
        return "\n".join(lines)
    if kind == "coverage":
        terms = "، ".join(event.get("terms") or [])
        lines.append(f"درجة الصلة {event.get('score'):.2f} · كلمات مشتركة: {terms}")
        lines.append(f"وُجدت عبر: {_ltr(event.get('found_via') or '')}")
        return "\n".join(lines)
    lines.append(
        f"النسخة {event['from_version']} ← {event['to_version']} · {_ltr(local(event['detected_at']))}"
    )
    if event["headline_changed"]:
        lines.append(f"العنوان السابق: {_rtl(event.get('old_headline') or '')}")
    if event.get("analysis_error"):  # a coarse judgement: say so before its figures
        lines.append(f"تعذّر التحليل المفصّل، قارن النسختين: {_ltr(event['analysis_error'][:200])}")
    facts = event.get("facts") or {}
    for d in facts.get("numbers", []):
        lines.append(f"أرقام: {' '.join(d['removed']) or '—'} ← {' '.join(d['added']) or '—'}")
    for d in facts.get("quotes", []):
        lines.append(f"اقتباس: «{' | '.join(d['removed'])}» ← «{' | '.join(d['added'])}»")
    if not event["silent"]:
        for s in event.get("signals", [])[:2]:
            lines.append(f"إشعار تحديث: {s}")
    for e in event.get("excerpt", []):
        if e.get("before"):
            lines.append(f"قبل: {_rtl(e['before'])}")
        if e.get("after"):
            lines.append(f"بعد: {_rtl(e['after'])}")
    if event.get("link"):
        lines.append(_ltr(event["link"]))
    return "\n".join(lines)


def counted(n: int, forms: tuple[str, str, str, str, str]) -> str:
    """A count with its noun in Arabic agreement. `forms`: how one is said,
    the dual, the plural (3–10), the accusative singular (11–99) and the
    genitive singular (hundreds and thousands: ١٠٠ تنبيه)."""
    one, two, few, many, whole = forms
    if n == 1:
        return one
    if n == 2:
        return two
    rest = n % 100
    if 3 <= rest <= 10:
        return f"{n} {few}"
    if rest >= 11:
        return f"{n} {many}"
    return f"{n} {whole}"


ALERTS = ("تنبيه واحد", "تنبيهان", "تنبيهات", "تنبيهًا", "تنبيه")
SILENT_EDITS = ("تعديل صامت", "تعديلان صامتان", "تعديلات صامتة", "تعديلًا صامتًا", "تعديل صامت")


def digest(events: list[dict[str, Any]]) -> tuple[str, str]:
    silent = sum(1 for e in events if e["event"] == "change" and e["silent"])
    head = f"رقيب · {counted(len(events), ALERTS)}"
    if silent and len(events) == 1:
        head += f": {SILENT_EDITS[0]}"
    elif silent:
        head += f"، منها {counted(silent, SILENT_EDITS)}"
    return head, "\n\n".join(f"{title(e)}\n{body(e)}" for e in events)
