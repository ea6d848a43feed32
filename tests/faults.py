"""Stand-ins for a service that is down or hung, for the fault tests.

A stopped service: a port nothing listens on (``closed_port``), so connecting
is refused at once. A hung one: a server that accepts connections but never
reads or answers (``silent_server``), as a service does when
it is stuck, or when a firewall drops the replies.
"""

import socket
import threading
from contextlib import contextmanager


def closed_port() -> int:
    """A local port that nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def silent_server():
    """Yield the port of a server that accepts connections and never replies."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.settimeout(0.1)
            accepted.append(connection)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()
