"""One spider per job."""
