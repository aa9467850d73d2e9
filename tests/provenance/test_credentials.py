"""Content credentials with the real c2pa library: the project identity, signed takes of each
origin read back, tampering caught, animatics with their takes as ingredients, and the one-line
errors a bad certificate or key gives."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import c2pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from soundstage import __version__
from soundstage.errors import CredentialsError
from soundstage.provenance.credentials import (
    CUT_LABEL,
    IPTC,
    TAKE_LABEL,
    Approval,
    Origin,
    Signer,
    TakeProvenance,
    describe,
    make_project_identity,
    origin_of,
    provider_of,
    read_credentials,
    sign_animatic,
    sign_take,
)

from .material import APPROVED_AT, png_bytes, take, write_video


def test_project_identity_is_a_ca_and_a_signer_it_issued(identity: tuple[Path, Path, Path]) -> None:
    certificate, key, ca_path = identity
    signer_cert, ca_cert = x509.load_pem_x509_certificates(certificate.read_bytes())
    (anchor,) = x509.load_pem_x509_certificates(ca_path.read_bytes())
    assert anchor == ca_cert
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not signer_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert signer_cert.issuer == ca_cert.subject
    ca_cert.public_key().verify(signer_cert.signature, signer_cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    assert signer_cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert (
        ExtendedKeyUsageOID.EMAIL_PROTECTION
        in signer_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    lifetime = signer_cert.not_valid_after_utc - signer_cert.not_valid_before_utc
    assert timedelta(days=700) < lifetime < timedelta(days=760)
    assert isinstance(signer_cert.public_key(), ec.EllipticCurvePublicKey)
    assert signer_cert.public_key().curve.name == "secp256r1"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in key.read_bytes()  # PKCS#8
    assert "Lantern Keepers Ltd" in signer_cert.subject.rfc4514_string()


def test_project_identity_never_overwrites(identity: tuple[Path, Path, Path]) -> None:
    before = identity[1].read_bytes()
    with pytest.raises(CredentialsError, match="signer.pem: already exists"):
        make_project_identity(identity[0].parent, "Someone Else")
    assert identity[1].read_bytes() == before


@pytest.mark.parametrize(
    ("origin", "term"),
    [
        ("previs", "digitalCreation"),
        ("generated", "trainedAlgorithmicMedia"),
        ("edited", "compositeWithTrainedAlgorithmicMedia"),
    ],
)
def test_signed_take_reads_back_with_its_origin_approver_and_recipe(
    origin: str, term: str, signer: Signer, identity: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    made = take(origin, reason="drift is intended" if origin == "edited" else "")
    assert origin_of(made.recipe) is Origin(origin)
    path = tmp_path / "take.png"
    path.write_bytes(sign_take(png_bytes(1), made, signer))

    report = read_credentials(path, trust_anchors=identity[2])
    assert report.present and report.valid and report.trusted, report.problems
    assert report.claim_generator == f"Soundstage {__version__}"
    assert report.source_types == (IPTC + term,)
    assert report.soundstage_label == TAKE_LABEL
    data = report.soundstage
    assert data is not None
    assert (data["shot"], data["take"], data["origin"]) == ("012_0030", "012_0030/1", origin)
    assert data["recipe_sha256"] == made.recipe.sha256()
    assert data["seed"] == made.recipe.seed and data["model"] == made.recipe.model
    assert report.approval is not None
    assert (report.approval.name, report.approval.role, report.approval.at) == ("JUNO", "director", APPROVED_AT)
    assert report.approval.override_reason == made.approval.override_reason  # type: ignore[union-attr]

    lines = describe(report)
    assert "valid" in lines[0] and "trusted" in lines[0] and "NOT" not in lines[0]
    assert f"made by: Soundstage {__version__}" in lines
    assert any(Origin(origin).label in line and term in line for line in lines)
    assert any(line.startswith("approved by JUNO (director) at 2026-03-04T15:30") for line in lines)


def test_without_trust_anchors_a_project_signature_is_valid_but_untrusted(signer: Signer, tmp_path: Path) -> None:
    path = tmp_path / "take.png"
    path.write_bytes(sign_take(png_bytes(2), take("generated", approved=False), signer))
    report = read_credentials(path)
    assert report.valid and not report.trusted
    assert [p.code for p in report.problems] == ["signingCredential.untrusted"]
    assert report.failures == ()
    assert report.soundstage is not None and report.soundstage["approved"] is False and report.approval is None
    lines = describe(report)
    assert "not in a trust list" in lines[0]
    assert "not approved" in lines


def test_tampered_pixels_are_detected(signer: Signer, identity: tuple[Path, Path, Path], tmp_path: Path) -> None:
    signed = bytearray(sign_take(png_bytes(3), take("generated"), signer))
    pixels = signed.index(b"IDAT") + 20
    signed[pixels] ^= 0xFF
    path = tmp_path / "tampered.png"
    path.write_bytes(bytes(signed))
    report = read_credentials(path, trust_anchors=identity[2])
    assert report.present and not report.valid
    assert "assertion.dataHash.mismatch" in [p.code for p in report.failures]
    assert "NOT valid" in describe(report)[0] and "dataHash.mismatch" in describe(report)[0]


def test_file_without_credentials_and_unreadable_files(tmp_path: Path) -> None:
    plain = tmp_path / "plain.png"
    plain.write_bytes(png_bytes(4))
    report = read_credentials(plain)
    assert not report.present and not report.valid
    assert describe(report) == [f"{plain}: no content credentials"]
    with pytest.raises(CredentialsError, match="missing.png: cannot read the file"):
        read_credentials(tmp_path / "missing.png")
    garbage = tmp_path / "garbage.png"
    garbage.write_bytes(b"not an image at all")
    with pytest.raises(CredentialsError, match="garbage.png: cannot read content credentials"):
        read_credentials(garbage)
    # Trust anchors that are no certificates (verify --trust notes.txt) were a C2paError traceback.
    notes = tmp_path / "notes.txt"
    notes.write_text("not a certificate\n")
    with pytest.raises(CredentialsError, match=r"notes.txt: not CA certificates \(PEM\) to trust"):
        read_credentials(plain, trust_anchors=notes)


def _takes(folder: Path, signer: Signer, origins: list[tuple[str, bool]]) -> list:
    takes = []
    for number, (origin, approved) in enumerate(origins, start=1):
        made = take(origin, shot=f"003_{number:04d}", number=number, approved=approved)
        path = folder / f"{made.shot}.png"
        path.write_bytes(sign_take(png_bytes(number), made, signer))
        takes.append((path, made))
    return takes


@pytest.mark.parametrize("suffix", [".mp4", ".mov"])
def test_animatic_lists_its_takes_as_ingredients(
    suffix: str, signer: Signer, identity: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    takes = _takes(tmp_path, signer, [("previs", True), ("generated", True), ("edited", False)])
    source = tmp_path / f".unsigned{suffix}"
    write_video(source, frames=12)
    destination = tmp_path / f"animatic{suffix}"
    sign_animatic(source, destination, title="Lantern Keepers", cut_id="cut-1234", takes=takes, signer=signer)

    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
    with av.open(str(destination)) as container:  # still a playable video with its sound
        assert container.streams.video[0].frames == 12
        assert len(container.streams.audio) == 1
        assert sum(1 for _ in container.decode(video=0)) == 12

    report = read_credentials(destination, trust_anchors=identity[2])
    assert report.valid and report.trusted, report.problems
    assert report.title == "Lantern Keepers"
    assert report.source_types == (IPTC + "compositeWithTrainedAlgorithmicMedia",)
    assert report.soundstage_label == CUT_LABEL and report.soundstage is not None
    assert report.soundstage["cut_id"] == "cut-1234"
    assert report.soundstage["provider"] == "Lantern Keepers Ltd"
    assert [(s["backend"], s["model"]) for s in report.soundstage["systems"]] == [("diffusers", "tiny-sd-turbo")]
    assert [s["take"] for s in report.soundstage["shots"]] == ["003_0001/1", "003_0002/2", "003_0003/3"]
    assert [s["approved"] for s in report.soundstage["shots"]] == [True, True, False]
    assert [i.title for i in report.ingredients] == ["003_0001/1", "003_0002/2", "003_0003/3"]
    assert {i.relationship for i in report.ingredients} == {"componentOf"}
    assert [i.source_types for i in report.ingredients] == [
        (Origin.PREVIS.source_type,),
        (Origin.GENERATED.source_type,),
        (Origin.EDITED.source_type,),
    ]
    approvals = [i.approval for i in report.ingredients]
    assert [a.name if a else None for a in approvals] == ["JUNO", "JUNO", None]

    lines = describe(report)
    assert "made from 3 takes:" in lines
    assert any(line.startswith("source type: a composite that includes AI") for line in lines)
    assert any(line.strip().startswith("003_0003/3: AI edited") and "not approved" in line for line in lines)
    assert any(line.strip().startswith("003_0001/1: previs") and "approved by JUNO" in line for line in lines)


def test_animatic_of_previs_only_is_a_digital_creation_and_tampering_shows(
    signer: Signer, identity: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    takes = _takes(tmp_path, signer, [("previs", True), ("previs", False)])
    animatic = tmp_path / "animatic.mp4"
    write_video(animatic, frames=6)
    sign_animatic(animatic, animatic, title="Scene 3", cut_id="cut-2", takes=takes, signer=signer)  # in place
    report = read_credentials(animatic, trust_anchors=identity[2])
    assert report.trusted
    assert report.source_types == (IPTC + "digitalCreation",)
    assert report.soundstage is not None and report.soundstage["systems"] == []
    assert any(line.startswith("source type: a digital creation with no AI pictures") for line in describe(report))

    data = bytearray(animatic.read_bytes())
    data[data.index(b"mdat") + 40] ^= 0xFF
    animatic.write_bytes(bytes(data))
    tampered = read_credentials(animatic, trust_anchors=identity[2])
    assert not tampered.valid
    assert "assertion.bmffHash.mismatch" in [p.code for p in tampered.failures]


def test_animatic_refusals_leave_no_file(signer: Signer, tmp_path: Path) -> None:
    source = tmp_path / "source.mp4"
    write_video(source, frames=3)
    with pytest.raises(CredentialsError, match=r"animatic\.avi: cannot sign a \.avi file"):
        sign_animatic(source, tmp_path / "animatic.avi", title="t", cut_id="c", takes=[], signer=signer)
    missing = tmp_path / "gone.png"
    with pytest.raises(CredentialsError, match="gone.png: cannot read the take 003_0001/1"):
        sign_animatic(
            source, tmp_path / "out.mp4", title="t", cut_id="c", takes=[(missing, take("previs", "003_0001"))],
            signer=signer,
        )  # fmt: skip
    with pytest.raises(CredentialsError, match="nothing.mp4: cannot read the animatic"):
        sign_animatic(tmp_path / "nothing.mp4", tmp_path / "out.mp4", title="t", cut_id="c", takes=[], signer=signer)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.mp4"]


# -- certificates and keys a user may bring ---------------------------------------------------


def _chain(
    folder: Path, *, valid_from: timedelta = timedelta(days=-1), valid_for: timedelta = timedelta(days=30),
    signer_is_ca: bool = False,
) -> tuple[Path, Path, ec.EllipticCurvePrivateKey]:  # fmt: skip
    """A CA and a signer valid from now+valid_from for valid_for, written as PEM files."""
    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(1).not_valid_before(now - timedelta(days=400)).not_valid_after(now + timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    usage = x509.KeyUsage(True, False, False, False, False, signer_is_ca, signer_is_ca, False, False)
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test signer")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
        .not_valid_before(now + valid_from).not_valid_after(now + valid_from + valid_for)
        .add_extension(x509.BasicConstraints(ca=signer_is_ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    folder.mkdir(exist_ok=True)
    certificate, private_key = folder / "studio.pem", folder / "studio.key"
    certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    private_key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate, private_key, key


def test_studio_certificate_with_an_sec1_key_signs(tmp_path: Path) -> None:
    certificate, private_key, key = _chain(tmp_path)
    private_key.write_bytes(  # as `openssl ecparam -genkey` saves it
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    signer = Signer.from_files(certificate, private_key)
    assert signer.subject == "Test signer"
    path = tmp_path / "take.png"
    path.write_bytes(sign_take(png_bytes(5), take("generated"), signer))
    report = read_credentials(path)
    assert report.valid and report.signer == "Test signer"


def test_expired_and_future_certificates_are_refused(tmp_path: Path) -> None:
    certificate, key, _ = _chain(tmp_path / "old", valid_from=timedelta(days=-60), valid_for=timedelta(days=30))
    with pytest.raises(CredentialsError, match=r"studio\.pem: the signing certificate expired on \d{4}-\d\d-\d\d"):
        Signer.from_files(certificate, key)
    certificate, key, _ = _chain(tmp_path / "new", valid_from=timedelta(days=2))
    with pytest.raises(CredentialsError, match=r"studio\.pem: the signing certificate is not valid before"):
        Signer.from_files(certificate, key)


def test_broken_missing_mismatched_and_encrypted_keys_are_refused(tmp_path: Path) -> None:
    certificate, key, _ = _chain(tmp_path / "a")
    other_certificate, other_key, private = _chain(tmp_path / "b")
    broken = tmp_path / "broken.key"
    broken.write_bytes(b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
    with pytest.raises(CredentialsError, match=r"broken\.key: not a readable PEM private key"):
        Signer.from_files(certificate, broken)
    with pytest.raises(CredentialsError, match=r"nowhere\.key: cannot read the signing key"):
        Signer.from_files(certificate, tmp_path / "nowhere.key")
    with pytest.raises(CredentialsError, match=r"nowhere\.pem: cannot read the signing certificate"):
        Signer.from_files(tmp_path / "nowhere.pem", key)
    with pytest.raises(CredentialsError, match=r"b/studio\.key: the signing key does not match the first certificate"):
        Signer.from_files(certificate, other_key)
    not_pem = tmp_path / "cert.der"
    not_pem.write_bytes(b"\x30\x82garbage")
    with pytest.raises(CredentialsError, match=r"cert\.der: not a PEM certificate chain"):
        Signer.from_files(not_pem, key)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(CredentialsError, match=r"encrypted\.key: the signing key is encrypted"):
        Signer.from_files(other_certificate, encrypted)


def test_a_ca_certificate_as_signer_is_refused_by_c2pa_in_one_line(tmp_path: Path) -> None:
    certificate, key, _ = _chain(tmp_path, signer_is_ca=True)
    with pytest.raises(CredentialsError, match=r"studio\.pem: c2pa refuses this certificate") as caught:
        Signer.from_files(certificate, key)
    assert "\n" not in str(caught.value)


def test_times_carry_their_utc_offset_and_people_their_production_names(
    signer: Signer, identity: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    # Times as SQLite hands them back: UTC without a zone, with microseconds.
    made, approved = datetime(2026, 3, 4, 9, 15, 0, 250_000), datetime(2026, 3, 4, 15, 30, 0, 999_000)
    base = take("generated", "003_0001", 1)
    provenance = TakeProvenance(
        base.shot, base.take, base.recipe, base.recipe_sha256, Approval("JUNO", "director", approved),
        created_at=made, requested_by="Maisie Hart", requested_by_login="maisie",
    )  # fmt: skip
    path = tmp_path / "takes" / "003_0001_t1.png"
    path.parent.mkdir()
    path.write_bytes(sign_take(png_bytes(1), provenance, signer))
    report = read_credentials(path, trust_anchors=identity[2])
    data = report.soundstage
    assert data["created_at"] == "2026-03-04T09:15:00+00:00"
    assert data["approval"]["at"] == "2026-03-04T15:30:00+00:00"
    assert (data["requested_by"], data["requested_by_login"]) == ("Maisie Hart", "maisie")
    assert "requested by Maisie Hart (login maisie)" in "\n".join(describe(report))
    # Without a name given, the recipe's own requested_by stands, and no login is added.
    assert (
        take("previs").assertion()["requested_by"] == "oswin" and "requested_by_login" not in take("previs").assertion()
    )

    # The animatic: the provider and the person given, and the one clock reading passed in.
    source = tmp_path / ".unsigned.mp4"
    write_video(source)
    at = datetime(2026, 3, 5, 10, 0, 0, tzinfo=UTC)
    written = sign_animatic(
        source, tmp_path / "cut.mp4", title="Pilot", cut_id="c-1", takes=[(path, provenance)], signer=signer,
        provider=provider_of("Pilot", ""), made_by="Sol Reyes", made_by_login="sol", signed_at=at,
    )  # fmt: skip
    assert written == at
    cut = read_credentials(tmp_path / "cut.mp4", trust_anchors=identity[2])
    assert cut.soundstage["provider"] == "Pilot"  # not the certificate's organisation
    assert cut.soundstage["made_by"] == {"name": "Sol Reyes", "login": "sol"}
    assert cut.soundstage["created_at"] == "2026-03-05T10:00:00+00:00"
    store = c2pa_actions(tmp_path / "cut.mp4")
    assert [a["when"] for a in store if a["action"] == "c2pa.created"] == ["2026-03-05T10:00:00+00:00"]


def c2pa_actions(path: Path) -> list[dict]:
    """The active manifest's actions, as c2pa's Reader gives them."""
    with path.open("rb") as file, c2pa.Reader("video/mp4", file) as reader:
        store = json.loads(reader.json())
    manifest = store["manifests"][store["active_manifest"]]
    return [a for x in manifest["assertions"] if x["label"].startswith("c2pa.actions") for a in x["data"]["actions"]]


def test_the_provider_is_the_organisation_or_the_title_never_a_folder() -> None:
    assert provider_of("The Lantern Keepers", "Harbour Light  Films") == "Harbour Light Films"
    assert provider_of("The Lantern Keepers") == "The Lantern Keepers"
    assert provider_of("", "") == ""


def test_an_encrypted_key_signs_with_its_passphrase(tmp_path: Path) -> None:
    certificate, key = make_project_identity(tmp_path / "keys", "Harbour Lights", passphrase=b"lamp oil")
    assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes() and b"lamp oil" not in key.read_bytes()
    with pytest.raises(
        CredentialsError, match=r"signer\.key: the signing key is encrypted; .*SOUNDSTAGE_KEY_PASSPHRASE"
    ):
        Signer.from_files(certificate, key)
    with pytest.raises(
        CredentialsError, match=r"signer\.key: the passphrase in SOUNDSTAGE_KEY_PASSPHRASE does not open"
    ):
        Signer.from_files(certificate, key, passphrase=b"whale oil")
    signer = Signer.from_files(certificate, key, passphrase=b"lamp oil")
    path = tmp_path / "take.png"
    path.write_bytes(sign_take(png_bytes(3), take("generated"), signer))
    report = read_credentials(path, trust_anchors=tmp_path / "keys" / "ca.pem")
    assert report.valid and report.trusted
    # A passphrase set for a plain key is not needed and does no harm.
    plain_certificate, plain_key = make_project_identity(tmp_path / "plain", "Harbour Lights")
    assert Signer.from_files(plain_certificate, plain_key, passphrase=b"lamp oil").subject
