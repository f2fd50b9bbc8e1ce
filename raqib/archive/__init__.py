"""The archive: WARC capture of every fetch (warc.py) and the exports (export.py)."""
