"""The use cases: what the CLI, the daemon and `serve` call.

Each module holds the steps of one kind of work (a pass, discovery,
notifications, reading history, publishing); `home.open_app` is the
composition root that puts configuration, storage and the clock together.
"""
