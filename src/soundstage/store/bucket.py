"""The media store in an S3-compatible bucket (AWS S3, MinIO, Ceph): ``[media] url =
"s3://bucket/prefix"``.

The objects and their names are those of the folder store (``<prefix>/ab/cd/<sha256><suffix>``),
so a production can move between the two by copying. Writing: the bytes are first written to
a temporary file in the production's local ``media/`` folder (which hashes them), then sent with
one conditional PUT (``If-None-Match: *``), and only then renamed into the folder: S3 makes an
object visible whole or not at all, and a second writer of the same bytes is told they are
there already, so nothing is overwritten, a killed writer leaves no object, and a local copy is
always one the bucket has. Reading: ``path`` fetches the object once into the local folder, which
is then a read-through cache; every fetch is hashed on arrival, and an object whose bytes do
not match its name is refused, never used. Content-addressed objects never change, so the cache
never needs invalidating.

The client is obstore (Rust's object_store, which the Arrow and Delta projects use): it speaks
S3's conditional writes, streams large objects and retries transient faults. Credentials come
from the environment as for any AWS client (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN), never from soundstage.toml. Refused credentials, a bucket they may not read
or write, and an unreachable service are each one StoreError line naming the bucket.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, BinaryIO

from soundstage.errors import StoreError
from soundstage.store.media import MediaStore, object_name

_CHUNK = 1 << 20
# An unreachable service should fail in seconds, not after the client's default of minutes of
# retries; transient faults of a reachable one are still retried.
_RETRY = {"max_retries": 3, "retry_timeout": timedelta(seconds=20)}
_TIMEOUTS = {"connect_timeout": "5s", "timeout": "120s"}


class BucketMediaStore(MediaStore):
    """Content-addressed objects in an S3-compatible bucket, read through the local folder
    ``cache`` (the production's ``media/``)."""

    def __init__(
        self, cache: Path, url: str, *, endpoint: str = "", region: str = "", allow_http: bool = False
    ) -> None:
        super().__init__(cache)
        try:
            from obstore.store import S3Store
        except ImportError:
            raise StoreError(f"media url {url}: a bucket needs the s3 extra: pip install 'soundstage[s3]'") from None
        if not url.startswith("s3://") or len(url) <= len("s3://"):
            raise StoreError(f"media url {url!r}: not an s3://bucket/prefix address")
        if endpoint.lower().startswith("http://") and not allow_http:
            # Said here: the client would only fail each request with "HTTP error: builder error".
            raise StoreError(f"media endpoint {endpoint}: plain http; set allow_http = true in [media] to use it")
        self.url = url.rstrip("/")
        self.endpoint, self.region, self.allow_http = endpoint, region, allow_http
        where: dict[str, Any] = {"endpoint": endpoint} if endpoint else {}
        if region:
            where["region"] = region
        try:
            self._bucket = S3Store.from_url(
                self.url,
                client_options={"allow_http": allow_http, **_TIMEOUTS},
                retry_config=_RETRY,
                **where,
            )
        except Exception as error:  # obstore's configuration errors (a bad endpoint) are plain
            raise StoreError(f"media url {url}: {_said(error, writing=False)}") from None

    def check(self) -> None:
        """Raise StoreError, in one line, when the bucket cannot be reached or listed (wrong
        address, no such bucket, wrong credentials)."""
        import obstore

        with self._calling():
            next(iter(obstore.list(self._bucket, chunk_size=1)), None)

    def check_writable(self) -> None:
        """Raise StoreError, in one line, when the credentials may not write to the bucket.

        The probe is one put-if-absent of the empty object under its own content address (what
        ``put_bytes(b"")`` writes). S3 authorises a request before it evaluates the condition,
        so a refused write (403) is told apart from an object already there (412). What it may
        leave is a valid object of the store, never a stray key, and it needs no delete: a
        write-once policy (no s3:DeleteObject, apt for objects that are never overwritten)
        passes. ``soundstage init`` probes; opening does not (see init_production)."""
        self._put(object_name(_EMPTY_SHA256), b"")

    def path(self, sha256: str, suffix: str = "") -> Path:
        """The object as a local file, fetched from the bucket (and hash-checked) on first use."""
        local = self.root / object_name(sha256, suffix)
        if not local.is_file():
            self._fetch(sha256, suffix)
        return local

    def exists(self, sha256: str, suffix: str = "") -> bool:
        """Whether the object is in the bucket (a local copy counts: it came from there or was
        sent there)."""
        import obstore
        from obstore.exceptions import NotFoundError, PermissionDeniedError

        name = object_name(sha256, suffix)
        if (self.root / name).is_file():
            return True
        try:
            with self._calling():
                obstore.head(self._bucket, name)
        except StoreError as error:
            if isinstance(error.__cause__, (NotFoundError, FileNotFoundError)):
                return False
            if isinstance(error.__cause__, PermissionDeniedError):
                # A refused HEAD has no body, so no reason: a listing says which (wrong key,
                # wrong secret, no permission), for one more request on a path that fails anyway.
                self.check()
            raise
        return True

    def verify(self, sha256: str, suffix: str = "") -> bool:
        """Whether the object is in the bucket and its bytes there still hash to its name (read
        from the bucket, not the local copy)."""
        digest = hashlib.sha256()
        try:
            for chunk in self._stream(sha256, suffix):
                digest.update(chunk)
        except StoreError:
            return False
        return digest.hexdigest() == sha256

    def _send(self, name: str, source: BinaryIO) -> None:
        # Called by the folder's write before the local copy lands: a refused send leaves no
        # local copy (exists() counts one as the bucket's), so a later put of the same bytes
        # sends them again instead of naming an object the bucket lacks.
        self._put(name, source)

    def _put(self, name: str, source: BinaryIO | bytes) -> None:
        """One conditional PUT: written whole, or told the same bytes are there already."""
        import obstore
        from obstore.exceptions import AlreadyExistsError

        try:
            with self._calling(writing=True):
                obstore.put(self._bucket, name, source, mode="create")
        except StoreError as error:
            if not isinstance(error.__cause__, AlreadyExistsError):  # else: the same bytes are there
                raise

    def _fetch(self, sha256: str, suffix: str) -> None:
        got = self._write(self._stream(sha256, suffix), suffix, send=False)  # from the bucket: no re-send
        if got != sha256:
            (self.root / object_name(got, suffix)).unlink(missing_ok=True)
            raise StoreError(f"media object {self.url}/{object_name(sha256, suffix)} does not match its hash; not used")

    def _stream(self, sha256: str, suffix: str) -> Iterator[bytes]:
        import obstore

        name = object_name(sha256, suffix)
        with self._calling(missing=name):
            result = obstore.get(self._bucket, name)
            for chunk in result.stream(min_chunk_size=_CHUNK):
                yield bytes(chunk)

    @contextmanager
    def _calling(self, *, writing: bool = False, missing: str = "") -> Iterator[None]:
        """obstore's errors as one StoreError line naming the bucket (the original kept as the
        cause, so callers can tell a missing object from a fault)."""
        from obstore.exceptions import BaseError, NotFoundError

        what = "cannot be written" if writing else "cannot be read"
        try:
            yield
        except (NotFoundError, FileNotFoundError) as error:  # obstore raises either for a missing key
            if missing:
                raise StoreError(f"media object missing: {self.url}/{missing}") from error
            raise StoreError(f"media bucket {self.url} {what}: not found") from error
        except BaseError as error:
            raise StoreError(f"media bucket {self.url} {what}: {_said(error, writing)}") from error


_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# What S3 said (its error code, in the body object_store quotes), as the user would say it.
# Credentials come from the environment, so the message names the variable to look at.
_REFUSED = "credentials refused: "
_S3_CODES = {
    "NoSuchBucket": "no such bucket",
    "InvalidAccessKeyId": _REFUSED + "the access key in AWS_ACCESS_KEY_ID is not known to the service",
    "SignatureDoesNotMatch": _REFUSED + "AWS_SECRET_ACCESS_KEY does not match the access key",
    "InvalidToken": _REFUSED + "the session token in AWS_SESSION_TOKEN is not valid",
    "ExpiredToken": _REFUSED + "the session token in AWS_SESSION_TOKEN has expired",
    "error sending request": "the service cannot be reached",
    # Half a key in the environment: the client says which half is missing, in its own words.
    "Missing SecretAccessKey": "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both",
    "Missing AccessKeyId": "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both",
}
# With no key in the environment the client asks the EC2 instance metadata service for a role's
# credentials last, and off EC2 (a laptop, a studio's MinIO) its refusal was the whole message.
# Told by the service's address or by its paths (AWS_METADATA_ENDPOINT may move the address).
_INSTANCE_METADATA = ("169.254.169.254", "/latest/api/token", "/latest/meta-data/")
_NO_CREDENTIALS = (
    "no credentials for the bucket: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    " (and AWS_SESSION_TOKEN for temporary ones) in the environment"
)


def _said(error: BaseException, writing: bool) -> str:
    """The useful part of an object_store error: what S3 said, else its first line without the
    debug dump that follows."""
    from obstore.exceptions import PermissionDeniedError

    text = str(error).strip()
    if any(mark in text for mark in _INSTANCE_METADATA):
        return _NO_CREDENTIALS
    for code, said in _S3_CODES.items():
        if code in text:
            return said
    may_not = "may not write to it" if writing else "may not read it"
    if "AccessDenied" in text:
        return f"access denied: the credentials in AWS_ACCESS_KEY_ID {may_not}"
    if isinstance(error, PermissionDeniedError):  # a 403 without a body (HEAD): either cause
        return f"access denied: the credentials in AWS_ACCESS_KEY_ID are refused or {may_not}"
    return (text.splitlines()[0] if text else type(error).__name__)[:300]
