"""One spider per job."""


def conditional(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The validators of the last read, as a conditional GET's headers."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers
