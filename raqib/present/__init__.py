"""Presentation: the one serializer of every JSON document (records.py), the
notification events built from it (events.py), and its terminal form (text.py)."""
