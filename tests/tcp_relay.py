"""A TCP relay on loopback that a test can cut and restore: a network outage, for real."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


class TcpRelay:
    """Forwards (host, a port of its own) to (host, port). While cut, connections are refused.

    It listens on the target's own address, so a TLS certificate naming that address still fits.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.host = host
        self.port = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.create_server((self.host, self.port))
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close the listener and every open connection: the target is unreachable."""
        if self._listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave the
            # socket listening until that accept() returns.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
            self._open.clear()

    def restore(self) -> None:
        self.start()  # on the same port

    def _accept(self, listener: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = listener.accept()
                upstream = socket.create_connection(self.target)
                with self._lock:
                    self._open |= {client, upstream}
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pump, args=(a, b), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        for chunk in _chunks(source):
            sink.sendall(chunk)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def _chunks(sock: socket.socket) -> Iterator[bytes]:
    while chunk := sock.recv(65536):
        yield chunk
