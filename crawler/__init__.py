"""The Scrapy project: fetch watched pages, extract, normalise, store."""
