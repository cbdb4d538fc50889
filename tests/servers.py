"""A raw TCP server for answers no well-behaved HTTP server sends (bodies cut short)."""

from __future__ import annotations

import socket
import threading
import time


class RawServer:
    """Answers each connection with the next of ``replies`` (bytes), then, ``hold`` seconds
    later (a body that stalls), closes it; each connection in a thread of its own.

    The last reply repeats once the list is used up; ``replies`` may instead be a function
    of the request bytes. Bound to 127.0.0.1 on a free port.
    """

    def __init__(self, replies, hold: float = 0.0) -> None:
        self.replies = replies if callable(replies) else list(replies)
        self.hold = hold
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            with self._lock:
                self.requests.append(data)
                if callable(self.replies):
                    reply = self.replies(data)
                else:
                    reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
            try:
                conn.sendall(reply)
                time.sleep(self.hold)
            except OSError:
                pass

    def close(self) -> None:
        """Stop accepting (a close alone leaves ``accept`` waiting) and end the server."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(2)


def http_reply(body: bytes, status: str = "200 OK", content_length: int | None = None) -> bytes:
    length = len(body) if content_length is None else content_length
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n"
        f"Connection: close\r\n\r\n"
    ).encode() + body
