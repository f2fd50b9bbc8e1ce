"""The Scrapy project (installed as raqib.crawler): spiders, components wired
through the pass context (context.py), and the processes a pass runs in.
Extraction, judging and storage are Raqib's own; this package only fetches."""
