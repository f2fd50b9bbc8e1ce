"""`raqib demo`: a local server with a few versions of an article, and a
walk-through that watches it change."""
