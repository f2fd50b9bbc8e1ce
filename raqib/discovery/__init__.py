"""Related coverage: read feeds and sitemaps, find links, judge relatedness,
guard against private addresses. Pure functions; the crawler fetches."""
