"""The media store in an S3-compatible bucket against the folder store, in the same run.

Run: .venv/bin/python benchmarks/media_store.py [--takes 1000] [--kib 200] [--threads 8]
Prints markdown table rows for docs/benchmarks.md.

Each side stores ``--takes`` objects of ``--kib`` KiB of random bytes (a take's PNG does not
compress further), then a second store with an empty local cache reads every one back (the
bucket's path: fetched, hashed, kept in the cache; the folder's: opened and read). The bucket
side writes and reads with ``--threads`` threads, as workers and reviewers would; the folder
side with the same number. The S3 service is moto's server on loopback (the one the tests run):
a Python server on the same 2 cores as the client, so this is a floor for a real MinIO or S3,
not their speed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import socket
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from soundstage.store.bucket import BucketMediaStore
from soundstage.store.media import MediaStore


def _moto() -> tuple[object, str]:
    import boto3
    from moto.server import ThreadedMotoServer

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench")
    return server, endpoint


def _timed(work: Callable[[bytes], object], items: list[bytes], threads: int) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, items))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=1000)
    parser.add_argument("--kib", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    blobs = [os.urandom(args.kib * 1024) for _ in range(args.takes)]
    shas = [hashlib.sha256(b).hexdigest().encode() for b in blobs]
    server, endpoint = _moto()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            folder = MediaStore(root / "folder")
            bucket = BucketMediaStore(
                root / "cache", "s3://bench/pilot", endpoint=endpoint, region="us-east-1", allow_http=True
            )
            elsewhere = BucketMediaStore(
                root / "cold", "s3://bench/pilot", endpoint=endpoint, region="us-east-1", allow_http=True
            )

            def read_folder(sha: bytes) -> bytes:
                with folder.open(sha.decode(), ".png") as file:
                    return file.read()

            rows = []
            for name, put, get in (
                ("folder", lambda b: folder.put_bytes(b, ".png"), read_folder),
                ("bucket (moto)", lambda b: bucket.put_bytes(b, ".png"), lambda s: elsewhere.path(s.decode(), ".png")),
            ):
                put_s = _timed(put, blobs, args.threads)
                get_s = _timed(get, shas, args.threads)
                rows.append((name, put_s, get_s))
    finally:
        server.stop()
    mib = args.takes * args.kib / 1024
    print(
        f"<!-- {platform.node()} {os.cpu_count()} cores; {args.takes} takes of {args.kib} KiB, {args.threads} threads -->"
    )
    print(f"| store | put {args.takes:,} takes | get {args.takes:,} takes (cold cache) | put MiB/s | get MiB/s |")
    print("|---|---|---|---|---|")
    for name, put_s, get_s in rows:
        print(f"| {name} | {put_s:.2f} s | {get_s:.2f} s | {mib / put_s:.0f} | {mib / get_s:.0f} |")
    base = rows[0]
    for name, put_s, get_s in rows[1:]:
        print(f"| {name} / folder | {put_s / base[1]:.1f}x | {get_s / base[2]:.1f}x | | |")


if __name__ == "__main__":
    main()
