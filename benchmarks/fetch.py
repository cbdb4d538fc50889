"""Benchmark fetch_pools against a local server that answers each request after 100 ms.

1,000 locations with workers=10: the ideal is 1,000 x 0.1 s / 10 = 10 s. The server runs
in its own process on 127.0.0.1 (threaded, so 10 requests are served at once), and the
measured ratio is wall time / ideal. Target: at most 1.3x.
Run: python benchmarks/fetch.py [--locations N] [--workers W] [--delay S]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def serve(port_queue, delay: float) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms ACK stall

        def do_GET(self):
            time.sleep(delay)
            location = parse_qs(urlparse(self.path).query).get("locationId", ["x"])[0]
            pools = [
                {
                    "id": f"{location}-{i}",
                    "name": "Pool",
                    "locationId": location,
                    "numbers": [{"phoneNumber": f"+1415555{i:04d}", "friendlyName": "n"}],
                    "forwardingNumber": "",
                    "whisper": False,
                    "whisperMessage": "",
                    "callRecording": True,
                    "isActive": True,
                    "inboundCallService": None,
                }
                for i in range(5)
            ]
            body = json.dumps({"success": True, "data": pools, "total": 5}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-RateLimit-Max", "100")
            self.send_header("X-RateLimit-Remaining", "99")
            self.send_header("X-RateLimit-Interval-Milliseconds", "10000")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.1)
    args = parser.parse_args()

    import poolkit

    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, args.delay), daemon=True)
    server.start()
    base_url = f"http://127.0.0.1:{ports.get(timeout=10)}"
    try:
        with tempfile.TemporaryDirectory() as out:
            client = poolkit.Client("benchmark-token", base_url=base_url, pool_size=args.workers)
            locations = [f"loc{i:05d}" for i in range(args.locations)]
            start = time.perf_counter()
            result = poolkit.fetch_pools(
                locations, out=out, workers=args.workers, client=client, progress=False
            )
            seconds = time.perf_counter() - start
            files = len(os.listdir(result.snapshot)) - 1
    finally:
        server.terminate()
    ideal = max(args.locations * args.delay / args.workers, 1e-9)
    print(
        f"{args.locations:,} locations, workers={args.workers}, "
        f"server delay {args.delay * 1000:.0f} ms: "
        f"{seconds:.2f} s for {files:,} files, {len(result.tables.pools):,} pools, "
        f"{len(result.failures)} failures"
    )
    print(f"fetch / ideal ({ideal:.1f} s) = {seconds / ideal:.2f}x  (target <= 1.3x)")


if __name__ == "__main__":
    main()
