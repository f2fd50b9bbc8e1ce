"""Extraction: a decoded page → an article, its metadata, where it sits in the
page, and the outcome of a fetch. Pure; the only module that imports
trafilatura is article.py, and nothing here imports Scrapy."""
