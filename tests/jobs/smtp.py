"""A tiny SMTP server for the fault tests: it accepts mail, or accepts the
connection and never answers (a hung server). Stopping it closes the port,
so the next attempt is refused, as with a mail server that is down."""

import socket
import threading


class TinySMTPServer:
    def __init__(self, port: int, *, hang: bool = False):
        self.port = port
        self.hang = hang
        self.messages: list[bytes] = []
        self._stop = threading.Event()
        self._socket = socket.create_server(("127.0.0.1", port))
        self._socket.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                if self.hang:
                    self._stop.wait()  # hold the connection, say nothing
                    continue
                self._converse(connection)

    def _converse(self, connection: socket.socket) -> None:
        reader = connection.makefile("rb")

        def reply(text: str) -> None:
            connection.sendall(f"{text}\r\n".encode())

        reply("220 localhost tiny SMTP")
        while line := reader.readline():
            command = line.strip().upper()
            if command.startswith((b"EHLO", b"HELO")):
                reply("250 localhost")
            elif command == b"DATA":
                reply("354 go ahead")
                data = b""
                while (chunk := reader.readline()) not in (b".\r\n", b""):
                    data += chunk
                self.messages.append(data)
                reply("250 accepted")
            elif command == b"QUIT":
                reply("221 bye")
                return
            else:  # MAIL FROM, RCPT TO, RSET, NOOP
                reply("250 ok")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
