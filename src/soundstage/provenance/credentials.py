"""Content credentials (C2PA) on what Soundstage writes out: the take images of a cut and its
animatic. Each file says what made it (previs from human blocking, AI generated, AI edited),
which recipe, and which person approved it; the animatic lists its takes as ingredients.

The signing identity is a certificate chain and its private key in PEM files: the project's
own (``make_project_identity``, a project CA and a signer it issued) or the studio's. Files are
read back with c2pa's Reader; a certificate that chains to no trust anchor still validates its
signature and hashes, and is reported apart from real failures such as a changed pixel.

c2pa-python signs with a local key: ``Signer.from_info`` takes the PEM chain and a PKCS#8 key
and signs in the native library, so no callback signer is needed.

Who is named is given, never guessed: the provider (the production's title or the studio's
organisation, ``provider_of``) and the production's user names, with the operating-system
login recorded beside a name where the caller knows it. Every time is ISO 8601 with its UTC
offset, to the second; a cut's files share one clock reading (``Cut.made_at``).
"""

from __future__ import annotations

import io
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import c2pa
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from soundstage import __version__
from soundstage.config import PASSPHRASE_VARIABLE
from soundstage.errors import CredentialsError
from soundstage.files import write_atomic
from soundstage.generate.backend import Recipe
from soundstage.provenance.clock import iso, utc
from soundstage.provenance.screenplay import AiText

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TAKE_LABEL = "org.soundstage.take"
CUT_LABEL = "org.soundstage.cut"
GENERATOR = "Soundstage"

# What c2pa reports for a signer that chains to no trust anchor it was given. The signature and
# the hashes are still checked; only who vouches for the certificate is unknown.
UNTRUSTED = "signingCredential.untrusted"

_VIDEO_TYPES = {".mp4": "video/mp4", ".m4v": "video/x-m4v", ".mov": "video/quicktime"}
_READ_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".pdf": "application/pdf"}
_READ_TYPES.update(_VIDEO_TYPES)
# Said to a user who gave ``verify`` something else (a text file, an empty file, a folder): c2pa's
# own words ("NotSupported: type is unsupported") name neither what is wrong nor what would do.
_READABLE = "PNG, JPEG, PDF, MP4, M4V and MOV files"
_NONE_READABLE = f"holds no content credentials Soundstage can read (it reads {_READABLE})"


def media_type(path: Path) -> str:
    """The media type c2pa reads and signs a file as, from its suffix (a take is a PNG or an MP4)."""
    return _READ_TYPES.get(path.suffix.lower(), "image/png")


# c2pa's own defaults fetch remote manifests and embed a 1024 px thumbnail of every image. A
# take is a lossless PNG, so its thumbnail says nothing the pixels do not, and the animatic
# embeds every take's manifest as an ingredient: thumbnails there would grow the animatic by
# tens of kilobytes per shot. Nothing is fetched from the network while signing or reading.
# c2pa keeps intermediate copies of a signed file in memory up to 512 MB by default; past 8 MB
# they go to a temporary file, so a long animatic costs disk rather than memory (measured: a
# 60 MB animatic grew the peak by 115 MB at the default, 57 MB with this).
_SIGN_SETTINGS: dict[str, Any] = {
    "core": {"backing_store_memory_threshold_in_mb": 8},
    "builder": {"thumbnail": {"enabled": False}},
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
}
_READ_SETTINGS: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


class Origin(StrEnum):
    """How a take's pixels came to be, with the IPTC digital source type that says so."""

    PREVIS = "previs"
    GENERATED = "generated"
    EDITED = "edited"

    @property
    def label(self) -> str:
        """The words a viewer reads."""
        return _ORIGIN_LABELS[self]

    @property
    def source_type(self) -> str:
        """The IPTC digital source type URL in the ``c2pa.created`` action."""
        return IPTC + _ORIGIN_TERMS[self]

    @property
    def is_ai(self) -> bool:
        """Whether generative AI made or changed the pixels."""
        return self is not Origin.PREVIS


_ORIGIN_LABELS = {
    Origin.PREVIS: "previs from human blocking",
    Origin.GENERATED: "AI generated",
    Origin.EDITED: "AI edited",
}
_ORIGIN_TERMS = {
    Origin.PREVIS: "digitalCreation",
    Origin.GENERATED: "trainedAlgorithmicMedia",
    Origin.EDITED: "compositeWithTrainedAlgorithmicMedia",
}


def origin_of(recipe: Recipe) -> Origin:
    """The origin of a take made from ``recipe``: the previs backend renders the artists'
    blocking; a strength means img2img from the previs storyboard; else text-to-image."""
    if recipe.backend == "previs":
        return Origin.PREVIS
    return Origin.EDITED if recipe.strength is not None else Origin.GENERATED


def describe_source_type(url: str) -> str:
    """A source type URL in words: an origin's label where it is one, else the IPTC term."""
    for origin in Origin:
        if origin.source_type == url:
            return f"{origin.label} ({_ORIGIN_TERMS[origin]})"
    return url.removeprefix(IPTC)


def provider_of(title: str, organisation: str = "") -> str:
    """The provider a production's credentials and disclosure name: the studio's organisation
    when its settings name one (``[credentials] organisation``), else the production's title,
    else "" (the report then says the provider is not named; never a folder's name)."""
    return " ".join(organisation.split()) or " ".join(title.split())


def _person(name: str, login: str) -> dict[str, str]:
    """A person as an assertion names them: the production's user name, and the operating-system
    login beside it where it is known and says something the name does not."""
    person = {"name": name}
    if login and login != name:
        person["login"] = login
    return person


@dataclass(frozen=True)
class Approval:
    """A person's approval of a take: who, in which role, when, and why a flagged take was
    approved anyway (empty when nothing was overridden)."""

    name: str
    role: str
    at: datetime
    override_reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", utc(self.at))

    def as_json(self) -> dict[str, str]:
        """The approval as it is written into an assertion."""
        return {
            "name": self.name,
            "role": self.role,
            "at": iso(self.at),
            "override_reason": self.override_reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Approval:
        """The approval an assertion carries."""
        return cls(
            name=str(data.get("name", "")),
            role=str(data.get("role", "")),
            at=datetime.fromisoformat(str(data["at"])),
            override_reason=str(data.get("override_reason", "")),
        )

    def describe(self) -> str:
        """'approved by NAME (ROLE) at TIME', with the override reason when there is one."""
        text = f"approved by {self.name} ({self.role}) at {iso(self.at)}"
        return f'{text}, overriding a check: "{self.override_reason}"' if self.override_reason else text


@dataclass(frozen=True)
class TakeProvenance:
    """What a take's credentials say: the shot, the take ("012_0030/2"), its recipe and hash,
    the approval known when the file is written (None: not approved), and who asked for it:
    ``requested_by`` is the production's user name (the recipe's own ``requested_by``, as it
    was recorded, where none is given) and ``requested_by_login`` the operating-system login
    of whoever queued it, recorded beside the name."""

    shot: str
    take: str
    recipe: Recipe
    recipe_sha256: str
    approval: Approval | None
    created_at: datetime | None = None  # when the take was made, where the caller knows it
    requested_by: str = ""
    requested_by_login: str = ""
    # The AI rules checked when the take left (guardrails ShotCompliance.assertion(): consents
    # by document sha256, rules, overrides with their reasons); None where none were checked.
    guardrails: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.created_at is not None:
            object.__setattr__(self, "created_at", utc(self.created_at))

    @property
    def requester(self) -> str:
        """Who asked for the take: the production's user name, else what the recipe recorded."""
        return self.requested_by or self.recipe.requested_by

    @property
    def origin(self) -> Origin:
        """How the take was made (from its recipe)."""
        return origin_of(self.recipe)

    def assertion(self) -> dict[str, Any]:
        """The Soundstage assertion of the take (label ``org.soundstage.take``)."""
        data: dict[str, Any] = {
            "shot": self.shot,
            "take": self.take,
            "origin": self.origin.value,
            "recipe_sha256": self.recipe_sha256,
            "backend": self.recipe.backend,
            "backend_version": self.recipe.backend_version,
            "model": self.recipe.model,
            "weights_sha256": self.recipe.weights_sha256,
            "seed": self.recipe.seed,
            "requested_by": self.requester,
            "approved": self.approval is not None,
        }
        if self.requested_by_login and self.requested_by_login != self.requester:
            data["requested_by_login"] = self.requested_by_login
        if self.recipe.strength is not None:
            data["strength"] = self.recipe.strength
        if self.created_at is not None:
            data["created_at"] = iso(self.created_at)
        if self.approval is not None:
            data["approval"] = self.approval.as_json()
        if self.guardrails is not None:
            data["guardrails"] = self.guardrails
        return data

    def software_agent(self) -> dict[str, str]:
        """The backend and model that made the pixels, as the action's softwareAgent."""
        name = f"{self.recipe.backend}: {self.recipe.model}" if self.recipe.model else self.recipe.backend
        agent = {"name": name}
        if self.recipe.backend_version:
            agent["version"] = self.recipe.backend_version
        return agent


# -- the project identity ------------------------------------------------------------------

SIGNER_VALIDITY = timedelta(days=730)
CA_VALIDITY = timedelta(days=3650)
# Other machines' clocks run a little behind; a certificate valid from "now" would be refused there.
_CLOCK_SKEW = timedelta(hours=1)
# RFC 9336 id-kp-documentSigning; c2pa accepts it, and emailProtection, for claim signers.
_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


def _name(organisation: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def make_project_identity(folder: Path, organisation: str, *, passphrase: bytes | None = None) -> tuple[Path, Path]:
    """Make the production's signing identity in ``folder``: an ES256 project CA and a signer
    certificate it issues (valid two years), as ``signer.pem`` (signer then CA), ``signer.key``
    (PKCS#8, mode 0600) and ``ca.pem`` (the trust anchor to give ``read_credentials``).

    The CA's private key is not kept: its only job is to vouch for this signer. Existing files
    are never overwritten. With ``passphrase`` the key is written encrypted (PKCS#8, the best
    encryption the cryptography library offers), to be read back with the same passphrase.
    Returns (certificate, key)."""
    organisation = " ".join(organisation.split()) or "Soundstage production"
    certificate_path, key_path, ca_path = folder / "signer.pem", folder / "signer.key", folder / "ca.pem"
    for path in (certificate_path, key_path, ca_path):
        if path.exists():
            raise CredentialsError(f"{path}: already exists; remove the old identity to make a new one")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as failure:
        raise CredentialsError(f"{folder}: cannot make the credentials folder: {failure.strerror}") from None

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(organisation, f"{organisation} Soundstage project CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(_name(organisation, f"{organisation} Soundstage signer"))
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CLOCK_SKEW)
        .not_valid_after(now + SIGNER_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, _DOCUMENT_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    key_pem = signer_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    written: list[Path] = []
    try:
        write_atomic(key_path, key_pem, what="signing key", error=CredentialsError, mode=0o600)
        written.append(key_path)
        chain_pem = signer.public_bytes(serialization.Encoding.PEM) + ca_pem
        write_atomic(certificate_path, chain_pem, what="signer certificate", error=CredentialsError)
        written.append(certificate_path)
        write_atomic(ca_path, ca_pem, what="project CA certificate", error=CredentialsError)
    except CredentialsError:
        # Half an identity would be refused as "already exists" next time: leave none.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return certificate_path, key_path


# -- signing -------------------------------------------------------------------------------


def load_signing_key(path: Path, passphrase: bytes | None = None) -> PrivateKeyTypes:
    """A PEM private key, decrypted with ``passphrase`` when it is encrypted (a passphrase for a
    plain key is not needed and not used); one CredentialsError line naming the file when it
    cannot be read or opened."""
    data = _read(path, "signing key")
    try:
        try:
            return serialization.load_pem_private_key(data, password=None)
        except TypeError:  # encrypted
            if not passphrase:
                raise CredentialsError(
                    f"{path}: the signing key is encrypted; give its passphrase in the environment"
                    f" ({PASSPHRASE_VARIABLE})"
                ) from None
        try:
            return serialization.load_pem_private_key(data, password=passphrase)
        except ValueError:
            raise CredentialsError(f"{path}: the passphrase in {PASSPHRASE_VARIABLE} does not open this key") from None
    except (ValueError, UnsupportedAlgorithm) as failure:
        raise CredentialsError(f"{path}: not a readable PEM private key ({failure})") from None


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as failure:
        raise CredentialsError(f"{path}: cannot read the {what}: {failure.strerror or failure}") from None


def _algorithm(key: object, path: Path) -> c2pa.C2paSigningAlg:
    """The C2PA signing algorithm for a private key (C2PA allows ECDSA, RSA-PSS and Ed25519)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        by_curve = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}
        if key.curve.name in by_curve:
            return c2pa.C2paSigningAlg[by_curve[key.curve.name]]
        raise CredentialsError(f"{path}: C2PA cannot sign with the elliptic curve {key.curve.name}; use P-256")
    if isinstance(key, rsa.RSAPrivateKey):
        return c2pa.C2paSigningAlg.PS256
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return c2pa.C2paSigningAlg.ED25519
    raise CredentialsError(f"{path}: C2PA cannot sign with a {type(key).__name__}; use an EC P-256 key")


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME) or name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def _tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    return buffer.getvalue()


class Signer:
    """A checked signing identity: a certificate chain and its private key, ready for c2pa.

    Load it with ``Signer.from_files``; one Signer signs any number of files."""

    def __init__(
        self, certificate: Path, chain: list[x509.Certificate], native: c2pa.Signer, algorithm: c2pa.C2paSigningAlg
    ) -> None:
        self.certificate = certificate
        self.chain = chain
        self.algorithm = algorithm
        self._native = native
        self._context = c2pa.Context.from_dict(_SIGN_SETTINGS)

    @property
    def subject(self) -> str:
        """The signer certificate's common name."""
        return _common_name(self.chain[0].subject)

    @property
    def organisation(self) -> str:
        """The organisation the signer certificate names (its common name when it names none)."""
        values = self.chain[0].subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        return str(values[0].value) if values else self.subject

    @property
    def not_after(self) -> datetime:
        """When the signer certificate expires."""
        return self.chain[0].not_valid_after_utc

    @classmethod
    def from_files(
        cls, certificate: Path, private_key: Path, timestamp_url: str = "", *, passphrase: bytes | None = None
    ) -> Signer:
        """Load and check a PEM certificate chain (signer first) and its private key, which may
        be encrypted with ``passphrase`` (a passphrase given for a plain key is not needed and
        not used).

        Missing or unreadable files, an encrypted key without its passphrase or with a wrong
        one, a key that cannot be read or does not match the certificate, a certificate outside
        its validity period, and one c2pa refuses each give one CredentialsError line naming
        the file."""
        try:
            chain = x509.load_pem_x509_certificates(_read(certificate, "signing certificate"))
        except ValueError:
            raise CredentialsError(f"{certificate}: not a PEM certificate chain") from None
        key = load_signing_key(private_key, passphrase)
        algorithm = _algorithm(key, private_key)
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        if key.public_key().public_bytes(*spki) != chain[0].public_key().public_bytes(*spki):
            raise CredentialsError(
                f"{private_key}: the signing key does not match the first certificate in {certificate}"
            )
        now = datetime.now(UTC)
        for position, cert in enumerate(chain):
            which = (
                "the signing certificate"
                if position == 0
                else f"the issuing certificate {_common_name(cert.subject)!r}"
            )
            if cert.not_valid_after_utc < now:
                raise CredentialsError(f"{certificate}: {which} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
            if cert.not_valid_before_utc > now:
                raise CredentialsError(
                    f"{certificate}: {which} is not valid before {cert.not_valid_before_utc:%Y-%m-%d}"
                )
        # c2pa reads PKCS#8 only; keys saved as SEC1 or PKCS#1 PEM are converted here.
        pkcs8 = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        pem_chain = b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in chain)
        try:
            info = c2pa.C2paSignerInfo(algorithm, pem_chain, pkcs8, timestamp_url or None)
            signer = cls(certificate, chain, c2pa.Signer.from_info(info), algorithm)
        except c2pa.C2paError as failure:
            raise CredentialsError(f"{certificate}: c2pa cannot use this certificate and key: {failure}") from None
        # c2pa checks the certificate profile only when it signs; one tiny signature now turns a
        # refusal into one line here instead of a failure halfway through a cut.
        try:
            signer._sign(_probe_manifest(), "image/png", io.BytesIO(_tiny_png()), io.BytesIO())
        except c2pa.C2paError as failure:
            raise CredentialsError(
                f"{certificate}: c2pa refuses this certificate ({failure}); a C2PA signer certificate "
                "must not be a CA, must allow digitalSignature and name an extended key usage such as "
                "emailProtection or documentSigning"
            ) from None
        return signer

    def _sign(
        self,
        manifest: dict[str, Any],
        mime: str,
        source: IO[bytes],
        destination: IO[bytes],
        ingredients: Sequence[tuple[dict[str, Any], Path]] = (),
    ) -> None:
        """Sign ``source`` into ``destination`` with ``manifest`` and the signed PNG files
        ``ingredients`` (c2pa errors pass through; an unreadable ingredient is one line)."""
        with c2pa.Builder(manifest, context=self._context) as builder:
            for ingredient, path in ingredients:
                try:
                    with path.open("rb") as file:
                        builder.add_ingredient(ingredient, media_type(path), file)
                except OSError as failure:
                    raise CredentialsError(
                        f"{path}: cannot read the take {ingredient['title']}: {failure.strerror}"
                    ) from None
            builder.sign(self._native, mime, source, destination)


def _probe_manifest() -> dict[str, Any]:
    return {
        "claim_generator_info": _claim_generator(),
        "assertions": [_actions([{"action": "c2pa.created", "digitalSourceType": IPTC + "digitalCreation"}])],
    }


def _actions(actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"label": "c2pa.actions", "data": {"actions": actions}}


def _claim_generator() -> list[dict[str, str]]:
    return [{"name": GENERATOR, "version": __version__}]


def sign_take(png: bytes, take: TakeProvenance, signer: Signer, *, mime: str = "image/png") -> bytes:
    """The take (a PNG, or a clip take's MP4 with ``mime="video/mp4"``) with a C2PA manifest:
    Soundstage as claim generator, a ``c2pa.created`` action with the take's digital source type
    and the backend and model as software agent, and the Soundstage assertion (shot, take,
    recipe hash, model, seed, approval)."""
    created: dict[str, Any] = {
        "action": "c2pa.created",
        "digitalSourceType": take.origin.source_type,
        "softwareAgent": take.software_agent(),
        "description": take.origin.label,
    }
    if take.created_at is not None:
        created["when"] = iso(take.created_at)
    manifest = {
        "claim_generator_info": _claim_generator(),
        "title": take.take,
        "format": mime,
        "assertions": [_actions([created]), {"label": TAKE_LABEL, "data": take.assertion()}],
    }
    signed = io.BytesIO()
    try:
        signer._sign(manifest, mime, io.BytesIO(png), signed)
    except c2pa.C2paError as failure:
        raise CredentialsError(f"take {take.take}: cannot sign the take image: {failure}") from None
    return signed.getvalue()


@contextmanager
def _replacing(destination: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside ``destination`` that becomes it (fsync, rename, fsync the folder)
    when the block ends without an error, and is removed when it does not.

    Not write_atomic: an animatic is streamed through c2pa file to file; holding a feature's
    animatic in memory would make memory grow with the length of the cut."""
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        temporary = destination.with_name(f".{destination.name}.{secrets.token_hex(6)}.tmp")
        handle = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as failure:
        raise CredentialsError(f"{destination}: cannot write the signed file: {failure.strerror}") from None
    try:
        with os.fdopen(handle, "w+b") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, destination)
        folder = os.open(destination.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    except OSError as failure:
        raise CredentialsError(f"{destination}: cannot write the signed file: {failure.strerror}") from None
    finally:
        temporary.unlink(missing_ok=True)


def sign_animatic(
    source: Path,
    destination: Path,
    *,
    title: str,
    cut_id: str,
    takes: list[tuple[Path, TakeProvenance]],
    signer: Signer,
    provider: str = "",
    made_by: str = "",
    made_by_login: str = "",
    signed_at: datetime | None = None,
    audit_head: tuple[int, str] | None = None,
    ai_text: Sequence[AiText] = (),
) -> datetime:
    """Sign the animatic ``source`` (MP4 or MOV, by ``destination``'s suffix) into
    ``destination``, atomically. The manifest's ``c2pa.created`` action names the animatic a
    composite with AI media when any take is AI made (else a digital creation), every take
    file (already signed) is an ingredient placed in it, and the Soundstage assertion carries
    the cut id, the provider, who made the cut, the AI systems used and each shot's approval.

    ``provider``: the production's title or organisation (``provider_of``; the signer
    certificate's organisation when empty). ``made_by``: the production's user name of whoever
    cut it, with ``made_by_login`` beside it. ``signed_at``: the cut's one clock reading
    (``Cut.made_at``; now when not given). ``audit_head``: (event count, head sha256) of the audit
    trail when the cut was made, written as ``audit`` so every exported animatic anchors the
    trail (``soundstage audit verify --cut``). ``ai_text``: the screenplay draft the cut was made
    from when it holds AI-generated text, written as ``ai_text`` (absent when none: an unmarked
    draft is not a claim that it holds none). Returns the time written."""
    mime = _VIDEO_TYPES.get(destination.suffix.lower())
    if mime is None:
        raise CredentialsError(
            f"{destination}: cannot sign a {destination.suffix or 'suffix-less'} file; use .mp4 or .mov"
        )
    signed_at = utc(signed_at if signed_at is not None else datetime.now(UTC))
    any_ai = any(take.origin.is_ai for _, take in takes)
    created = {
        "action": "c2pa.created",
        "digitalSourceType": IPTC + ("compositeWithTrainedAlgorithmicMedia" if any_ai else "digitalCreation"),
        "softwareAgent": {"name": GENERATOR, "version": __version__},
        "when": iso(signed_at),
    }
    placed = [{"action": "c2pa.placed", "parameters": {"ingredientIds": [f"take-{i}"]}} for i in range(len(takes))]
    shots = []
    for _, take in takes:
        shot: dict[str, Any] = {
            "shot": take.shot,
            "take": take.take,
            "origin": take.origin.value,
            "recipe_sha256": take.recipe_sha256,
            "approved": take.approval is not None,
        }
        if take.approval is not None:
            shot["approval"] = take.approval.as_json()
        if take.guardrails is not None:
            shot["guardrails"] = take.guardrails  # consents by document hash, rules, overrides
        shots.append(shot)
    assertion: dict[str, Any] = {
        "cut_id": cut_id,
        "title": title,
        "provider": provider or signer.organisation,
        "created_at": iso(signed_at),
        "systems": ai_systems([take.recipe for _, take in takes]),
        "shots": shots,
    }
    if made_by:
        assertion["made_by"] = _person(made_by, made_by_login)
    if audit_head is not None:
        assertion["audit"] = {"events": audit_head[0], "head": audit_head[1]}
    if ai_text:
        assertion["ai_text"] = [text.as_json() for text in ai_text]
    manifest = {
        "claim_generator_info": _claim_generator(),
        "title": title,
        "format": mime,
        "assertions": [_actions([created, *placed]), {"label": CUT_LABEL, "data": assertion}],
    }
    ingredients = [
        ({"title": take.take, "relationship": "componentOf", "label": f"take-{i}"}, path)
        for i, (path, take) in enumerate(takes)
    ]
    try:
        source_file = source.open("rb")
    except OSError as failure:
        raise CredentialsError(f"{source}: cannot read the animatic: {failure.strerror}") from None
    with source_file, _replacing(destination) as target:
        try:
            signer._sign(manifest, mime, source_file, target, ingredients)
        except c2pa.C2paError as failure:
            raise CredentialsError(f"{destination}: cannot sign the animatic: {failure}") from None
    return signed_at


def ai_systems(recipes: list[Recipe]) -> list[dict[str, str]]:
    """The distinct generative AI systems among ``recipes``: backend, its version, model and
    weights hash, in first-use order (previs is not an AI system)."""
    seen: dict[tuple[str, str, str, str], None] = {}
    for recipe in recipes:
        if origin_of(recipe).is_ai:
            seen.setdefault((recipe.backend, recipe.backend_version, recipe.model, recipe.weights_sha256), None)
    return [
        {"backend": backend, "backend_version": version, "model": model, "weights_sha256": weights}
        for backend, version, model, weights in seen
    ]


# -- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One validation status code c2pa reports as a failure, with its explanation."""

    code: str
    explanation: str

    @property
    def about_trust(self) -> bool:
        """True when the only doubt is who vouches for the certificate, not the file."""
        return self.code == UNTRUSTED


@dataclass(frozen=True)
class IngredientReport:
    """A file the signed file was made from, as its manifest records it."""

    title: str
    relationship: str
    source_types: tuple[str, ...] = ()
    soundstage: dict[str, Any] | None = None  # the take's Soundstage assertion
    problems: tuple[Problem, ...] = ()

    @property
    def approval(self) -> Approval | None:
        """Who approved the take, where its assertion says."""
        data = (self.soundstage or {}).get("approval")
        return Approval.from_json(data) if data else None


@dataclass(frozen=True)
class CredentialReport:
    """What a file's content credentials say, and whether they hold.

    ``state`` is c2pa's validation state: "Trusted" (valid, and the signer chains to a trust
    anchor given), "Valid" (signature and content hashes check) or "Invalid"."""

    path: Path
    present: bool
    state: str = ""
    problems: tuple[Problem, ...] = ()
    claim_generator: str = ""
    title: str = ""
    signer: str = ""
    issuer: str = ""
    source_types: tuple[str, ...] = ()
    soundstage: dict[str, Any] | None = None  # the take's or the cut's Soundstage assertion
    soundstage_label: str = ""
    ingredients: tuple[IngredientReport, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        """The signature and every hash check (trusted or not)."""
        return self.present and self.state in ("Valid", "Trusted")

    @property
    def trusted(self) -> bool:
        """Valid, and the signer chains to a trust anchor."""
        return self.present and self.state == "Trusted"

    @property
    def failures(self) -> tuple[Problem, ...]:
        """The problems other than an untrusted signer: the file or manifest does not hold."""
        return tuple(problem for problem in self.problems if not problem.about_trust)

    @property
    def approval(self) -> Approval | None:
        """Who approved the take, for a take's credentials."""
        data = (self.soundstage or {}).get("approval")
        return Approval.from_json(data) if data else None


def _problems(entries: list[dict[str, Any]] | None) -> tuple[Problem, ...]:
    return tuple(Problem(str(e.get("code", "")), str(e.get("explanation", ""))) for e in entries or [])


def _source_types(manifest: dict[str, Any]) -> tuple[str, ...]:
    types = []
    for assertion in manifest.get("assertions", []):
        if assertion.get("label", "").startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                if action.get("action") == "c2pa.created" and action.get("digitalSourceType"):
                    types.append(str(action["digitalSourceType"]))
    return tuple(types)


def _soundstage(manifest: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    for assertion in manifest.get("assertions", []):
        if assertion.get("label") in (TAKE_LABEL, CUT_LABEL):
            return str(assertion["label"]), assertion.get("data")
    return "", None


def _generator(manifest: dict[str, Any]) -> str:
    info = manifest.get("claim_generator_info") or []
    if info:
        return " ".join(str(part) for part in (info[0].get("name"), info[0].get("version")) if part)
    return str(manifest.get("claim_generator", ""))


def _read_context(trust_anchors: Path | None) -> c2pa.Context:
    settings = dict(_READ_SETTINGS)
    if trust_anchors is not None:
        # user_anchors adds to c2pa's own trust list instead of replacing it.
        settings["trust"] = {"user_anchors": _read(trust_anchors, "trust anchors").decode("ascii", "replace")}
    try:
        return c2pa.Context.from_dict(settings)
    except c2pa.C2paError as failure:  # trust anchors that are no PEM certificates
        raise CredentialsError(f"{trust_anchors}: not CA certificates (PEM) to trust: {failure}") from None


def read_credentials(path: Path, *, trust_anchors: Path | None = None) -> CredentialReport:
    """Read and validate the content credentials of ``path``.

    ``trust_anchors``: a PEM file of CA certificates to trust (the project's ``ca.pem``);
    without it a self-made project CA is reported as not in a trust list. A file without
    credentials gives ``present=False``; a file that cannot be read gives CredentialsError."""
    context = _read_context(trust_anchors)
    if path.is_dir():
        raise CredentialsError(f"{path}: is a folder, not a media file; it {_NONE_READABLE}")
    try:
        file = path.open("rb")
    except OSError as failure:
        raise CredentialsError(f"{path}: cannot read the file: {failure.strerror}") from None
    with file:
        if os.fstat(file.fileno()).st_size == 0:
            raise CredentialsError(f"{path}: an empty file; it {_NONE_READABLE}")
        try:
            reader = c2pa.Reader.try_create(_READ_TYPES.get(path.suffix.lower()), file, None, context)
            if reader is None:
                return CredentialReport(path=path, present=False)
            with reader:
                store = json.loads(reader.json())
                state = reader.get_validation_state() or ""
        except c2pa.C2paError.NotSupported:
            raise CredentialsError(f"{path}: not a media file; it {_NONE_READABLE}") from None
        except c2pa.C2paError as failure:
            raise CredentialsError(f"{path}: cannot read content credentials: {failure}") from None
    manifests = store.get("manifests", {})
    active = manifests.get(store.get("active_manifest", ""), {})
    label, soundstage = _soundstage(active)
    signature = active.get("signature_info") or {}
    ingredients = []
    for ingredient in active.get("ingredients", []):
        own = manifests.get(ingredient.get("active_manifest", ""), {})
        results = (ingredient.get("validation_results") or {}).get("activeManifest") or {}
        ingredients.append(
            IngredientReport(
                title=str(ingredient.get("title", "")),
                relationship=str(ingredient.get("relationship", "")),
                source_types=_source_types(own),
                soundstage=_soundstage(own)[1],
                problems=_problems(results.get("failure") or ingredient.get("validation_status")),
            )
        )
    return CredentialReport(
        path=path,
        present=True,
        state=state,
        problems=_problems(store.get("validation_status")),
        claim_generator=_generator(active),
        title=str(active.get("title", "")),
        signer=str(signature.get("common_name", "")),
        issuer=str(signature.get("issuer", "")),
        source_types=_source_types(active),
        soundstage=soundstage,
        soundstage_label=label,
        ingredients=tuple(ingredients),
    )


def _take_line(data: dict[str, Any]) -> str:
    parts = [f"shot {data.get('shot', '?')} take {data.get('take', '?')}: {data.get('backend', '?')}"]
    if data.get("model"):
        parts.append(f"model {data['model']}")
    if data.get("weights_sha256"):
        parts.append(f"weights {str(data['weights_sha256'])[:12]}")
    parts.append(f"seed {data.get('seed', '?')}")
    parts.append(f"recipe {str(data.get('recipe_sha256', ''))[:12]}")
    if data.get("requested_by"):
        login = f" (login {data['requested_by_login']})" if data.get("requested_by_login") else ""
        parts.append(f"requested by {data['requested_by']}{login}")
    return ", ".join(parts)


def _ai_text(data: dict[str, Any]) -> list[str]:
    """The drafts a cut's ``ai_text`` names, as the disclosure report lists them; an entry some
    other signer wrote in another shape is named as unreadable rather than refused."""
    labels = []
    for text in data.get("ai_text") or []:
        try:
            labels.append(AiText(int(text["draft"]), str(text["sha256"])).label)
        except (KeyError, TypeError, ValueError):
            labels.append("draft (unreadable entry)")
    return labels


def _approval_text(data: dict[str, Any] | None) -> str:
    approval = (data or {}).get("approval")
    return Approval.from_json(approval).describe() if approval else "not approved"


_CUT_SOURCE_TYPES = {
    IPTC + "compositeWithTrainedAlgorithmicMedia": "a composite that includes AI generated or edited pictures "
    "(compositeWithTrainedAlgorithmicMedia)",
    IPTC + "digitalCreation": "a digital creation with no AI pictures (digitalCreation)",
}


def describe(report: CredentialReport) -> list[str]:
    """The lines ``soundstage verify FILE`` prints: valid or not and why, what made the file,
    its source type, the takes it was made from and who approved each."""
    if not report.present:
        return [f"{report.path}: no content credentials"]
    signer = report.signer or "an unnamed signer"
    if report.trusted:
        lines = [f"{report.path}: content credentials valid, signed by {signer} (trusted)"]
    elif report.valid:
        lines = [
            f"{report.path}: content credentials valid: signature and content hashes check; "
            f"the signer {signer} is not in a trust list given"
        ]
    else:
        reasons = "; ".join(f"{p.explanation} ({p.code})" for p in report.failures) or report.state
        lines = [f"{report.path}: content credentials NOT valid: {reasons}"]
    lines.append(f"made by: {report.claim_generator or 'unknown software'}")
    if report.title:
        lines.append(f"title: {report.title}")
    data = report.soundstage or {}
    for url in report.source_types:
        # An animatic is a composite: the term that marks an AI edited take means "holds AI pictures" there.
        words = _CUT_SOURCE_TYPES.get(url) if report.soundstage_label == CUT_LABEL else None
        lines.append(f"source type: {words or describe_source_type(url)}")
    if report.soundstage_label == TAKE_LABEL:
        lines.append(_take_line(data))
        lines.append(_approval_text(data))
    elif report.soundstage_label == CUT_LABEL:
        made_by = data.get("made_by") or {}
        who = f", cut by {made_by.get('name')}" if made_by.get("name") else ""
        lines.append(
            f"cut {data.get('cut_id', '?')} by {data.get('provider') or '(provider not named)'}{who}, "
            f"{data.get('created_at', '')}"
        )
        lines += [f"made from the screenplay {label}: it holds AI-generated text" for label in _ai_text(data)]
    if report.ingredients:
        lines.append(f"made from {len(report.ingredients)} takes:")
        for ingredient in report.ingredients:
            origin = ", ".join(describe_source_type(url) for url in ingredient.source_types) or "origin unknown"
            line = f"  {ingredient.title}: {origin}; {_approval_text(ingredient.soundstage)}"
            if any(not p.about_trust for p in ingredient.problems):
                line += " (its own credentials did not hold when it was placed)"
            lines.append(line)
    return lines
