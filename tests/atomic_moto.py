"""moto's standalone S3 server, deciding one request whole before the next. `python tests/atomic_moto.py PORT`

moto checks a put's If-Match / If-None-Match and then writes, in two steps, so two conditional writes that arrive
together can both pass; S3 itself decides them atomically, and the compare-and-swap tests need S3's behaviour.
"""

import os
import sys
import threading

from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple


def main(port):
    os.environ.setdefault("MOTO_PORT", str(port))  # as moto_server sets it, for the URLs moto writes
    app = DomainDispatcherApplication(create_backend_app)
    one_at_a_time = threading.Lock()

    def atomic(environ, start_response):
        with one_at_a_time:
            return list(app(environ, start_response))

    run_simple("127.0.0.1", port, atomic, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(int(sys.argv[1]))
