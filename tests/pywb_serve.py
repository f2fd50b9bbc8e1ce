"""Run in pywb's own virtualenv (tests/needs.py): serve the pywb root in the
current directory on 127.0.0.1, on a free port, and print that port once the
socket listens, so the test that started it waits for that line, not a delay."""

from gevent.monkey import patch_all

patch_all()

from gevent.pywsgi import WSGIServer  # noqa: E402
from pywb.apps.frontendapp import FrontEndApp  # noqa: E402

server = WSGIServer(("127.0.0.1", 0), FrontEndApp(), log=None)
server.start()
print("listening", server.server_port, flush=True)
server.serve_forever()
