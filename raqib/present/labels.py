"""The words for a change, in Arabic and English: the report, the feed and the
messages say the same thing the same way."""

from __future__ import annotations

# (Arabic, English) for each verdict.
SILENT = ("تعديل صامت", "silent edit")
ANNOUNCED = ("تعديل جوهري معلن", "announced edit")
COSMETIC = ("تعديل شكلي", "cosmetic edit")
HEADLINE = ("تغيّر العنوان", "headline changed")

# A fetch's outcome as the article page and the outcome pages name it.
OUTCOMES = {
    "new_version": ("نسخة جديدة", "new version"),
    "unchanged": ("دون تغيير", "unchanged"),
    "not_modified": ("دون تغيير (304)", "not modified"),
    "not_article": ("ليست مقالًا", "not an article"),
    "error": ("خطأ", "error"),
    "removed": ("حُذفت", "removed"),
    "restored": ("عادت", "restored"),
}


def verdict(kind: str, silent: bool) -> tuple[str, str]:
    """(Arabic, English) for a change's kind and whether it was announced."""
    if kind == "substantive":
        return SILENT if silent else ANNOUNCED
    return COSMETIC


def outcome(name: str) -> tuple[str, str]:
    return OUTCOMES.get(name, (name, name))
