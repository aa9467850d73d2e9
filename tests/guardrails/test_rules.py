"""Rule packs: the built-in ones load and say where each rule comes from; studio packs join on
the search path; bad or contradictory packs are refused in one line naming both sides."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from soundstage.errors import GuardrailError
from soundstage.guardrails.model import Policy
from soundstage.guardrails.rules import BUILT_IN, KINDS, Gate, Requirement, catalogue, load_pack, read_pack, select

from .production import ALL_LAWS, ALL_PACKS, PROJECT, Production, pack_of, production
from conftest import REPO

GUARDRAILS_MD = REPO.parent / "shared" / "rules" / "guardrails.md"

STUDIO_HEADER = """
[pack]
id = "{id}"
version = "1"
agreement = "Studio house rules"
kind = "studio"
title = "House rules"

[sources]
H1 = "Studio AI policy, section 4"
"""


def _studio(folder: Path, name: str, rules: str, pack_id: str = "house") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(STUDIO_HEADER.format(id=pack_id) + rules, encoding="utf-8")
    return path


def test_the_built_in_packs_name_their_sources_and_status() -> None:
    packs = catalogue([BUILT_IN])
    assert {key for key in packs} >= {*ALL_PACKS, *ALL_LAWS, "sag-aftra-tv-theatrical@2026"}
    cited = GUARDRAILS_MD.read_text(encoding="utf-8")
    for key, (info, rules) in packs.items():
        assert info.key == key and info.file.parent == BUILT_IN
        for rule in rules:
            assert rule.status in {"F", "I", "?", "F/I"}
            assert rule.agreement == info.agreement and rule.agreement_version == info.version
            assert rule.sources and all(s.text for s in rule.sources)
            # Every source key is one of guardrails.md's ([S1], [W1], [L8] ...).
            for source in rule.sources:
                assert f"[{source.key}]" in cited, (rule.id, source.key)
            assert rule.gates and rule.reason.endswith(".") and "\n" not in rule.reason
            assert rule.note, rule.id
    # Unverified 2026 text is marked as such, not presented as firm.
    sag2026 = {rule.id: rule for rule in packs["sag-aftra-tv-theatrical@2026"][1]}
    assert sag2026["SAG-PL-1"].status == "?" and sag2026["SAG-DR-2"].status == "?"
    sag2023 = {rule.id: rule for rule in packs["sag-aftra-tv-theatrical@2023"][1]}
    assert sag2026["SAG-DR-2"].params.business_reason and not sag2023["SAG-DR-2"].params.business_reason
    assert {rule.status for rule in sag2026.values()} <= {"I", "?"}


def test_the_rule_ids_of_guardrails_md_are_in_the_packs() -> None:
    table = GUARDRAILS_MD.read_text(encoding="utf-8").split("## 3. Rules", 1)[1].split("## 4.", 1)[0]
    listed = set(re.findall(r"^\| ([A-Z][A-Z0-9/-]+) \|", table, re.MULTILINE)) - {"ID"}
    ours = {rule.id for _, rules in catalogue([BUILT_IN]).values() for rule in rules}
    # Combined rows of the table are split into one rule per agreement or state.
    split = {"TAG/IA-1": {"TAG-1", "IA-1"}, "CA-1836/NY-8391": {"CA-1836", "NY-8391"}}
    # Gates Soundstage has no event for: clone training pay and writing assignments (see docs).
    not_enforced = {"WGA-2"}
    for rule_id in listed - not_enforced:
        assert split.get(rule_id, {rule_id}) <= ours, rule_id


def test_every_current_pack_selects_together() -> None:
    pack = pack_of(*ALL_PACKS, *ALL_LAWS)
    assert len(pack.ids) == len(set(pack.ids))
    assert {p.key for p in pack.packs} == {*ALL_PACKS, *ALL_LAWS}
    assert all(rule.gates_event(Gate.APPROVE) for rule in pack.gating(Gate.APPROVE))
    assert pack.gating(None) == pack.rules


def test_an_unknown_rule_id_is_one_line() -> None:
    pack = pack_of("dga@2023")
    assert pack.rule("DGA-1").requires == "director-consultation"
    with pytest.raises(
        GuardrailError, match=r"^unknown rule id 'DGA-2': no such rule in the selected packs \(dga@2023\)$"
    ):
        pack.rule("DGA-2")


def test_policy_mistakes_are_one_line() -> None:
    packs = catalogue([BUILT_IN])
    with pytest.raises(
        GuardrailError, match=r"^\[policy\] agreements: no rule pack dga@2031 on the search path \(packs: "
    ):
        select(packs, Policy(agreements=["dga@2031"]))
    with pytest.raises(GuardrailError, match="are the same pack; select one version"):
        select(packs, Policy(agreements=["sag-aftra-tv-theatrical@2023", "sag-aftra-tv-theatrical@2026"]))
    with pytest.raises(GuardrailError, match=r"^\[policy\] agreements: eu@2026 is a law pack"):
        select(packs, Policy(agreements=["eu@2026"]))
    with pytest.raises(ValidationError, match="name a rule pack as id@version"):
        Policy(agreements=["dga"])


def test_contradicting_rule_files_are_refused_naming_both_rules(tmp_path: Path) -> None:
    studio = tmp_path / "guardrails"
    _studio(
        studio,
        "waiver",
        """
[[rules]]
id = "HOUSE-1"
status = "I"
sources = ["H1"]
gates = ["approve"]
requires = "consent"
exempt = true
scope = { replica = ["employment-replica", "background-replica", "voice"] }
reason = "Replica consent is not needed in-house: {detail}."
""",
    )
    policy = Policy(project=PROJECT, agreements=["sag-aftra-tv-theatrical@2023", "house@1"], pack_dirs=["guardrails"])
    with pytest.raises(GuardrailError) as refused:
        load_pack(policy, tmp_path)
    message = str(refused.value)
    assert message.startswith("rules SAG-DR-3 (sag-aftra-tv-theatrical-2023.toml) and HOUSE-1 (waiver.toml) contradict")
    assert "requires consent for replica=background-replica,employment-replica,voice" in message and "\n" not in message

    # Two studio files of one studio contradict each other just the same.
    _studio(
        studio,
        "rule",
        """
[[rules]]
id = "HOUSE-2"
status = "I"
sources = ["H1"]
gates = ["approve"]
requires = "union-notice"
reason = "Notify the guild of {performer}: {detail}."
""",
        pack_id="house-notices",
    )
    _studio(
        studio,
        "waiver",
        """
[[rules]]
id = "HOUSE-3"
status = "I"
sources = ["H1"]
gates = ["approve", "export"]
requires = "union-notice"
exempt = true
reason = "No notice needed: {detail}."
""",
    )
    policy = Policy(project=PROJECT, agreements=["house-notices@1", "house@1"], pack_dirs=["guardrails"])
    with pytest.raises(GuardrailError, match=r"^rules HOUSE-2 \(rule.toml\) and HOUSE-3 \(waiver.toml\) contradict"):
        load_pack(policy, tmp_path)


def test_a_narrower_exemption_stands_and_exempts(tmp_path: Path) -> None:
    p: Production = production(tmp_path)
    studio = tmp_path / "guardrails"
    _studio(
        studio,
        "deceased",
        """
[[rules]]
id = "HOUSE-4"
status = "I"
sources = ["H1"]
gates = ["approve"]
requires = "consent"
exempt = true
scope = { replica = ["voice"], deceased = true }
reason = "Archive voices are cleared by the studio's library: {detail}."
""",
    )
    policy = Policy(project=PROJECT, agreements=["sag-aftra-tv-theatrical@2023", "house@1"], pack_dirs=["guardrails"])
    pack = load_pack(policy, tmp_path)
    without_consent = p.without_consent("C-5")
    # At approval every consent rule is exempted for the late Émile Durand's voice (SAG-DR-3 and
    # SAG-DR-7), and nothing else; at export (which the exemption does not gate) both hold.
    assert not without_consent.violations(Gate.APPROVE, pack)
    found = {(v.rule_id, v.performer) for v in without_consent.violations(Gate.EXPORT, pack)}
    assert found == {("SAG-DR-3", "Émile Durand"), ("SAG-DR-7", "Émile Durand")}
    # A living performer's voice is outside the exemption's scope.
    assert {v.rule_id for v in p.without_consent("C-2").violations(Gate.APPROVE, pack)} == {"SAG-DR-3"}


def test_a_studio_pack_shadows_the_built_in_one(tmp_path: Path) -> None:
    studio = tmp_path / "guardrails"
    studio.mkdir()
    text = (BUILT_IN / "dga-2023.toml").read_text(encoding="utf-8")
    (studio / "dga.toml").write_text(text.replace('reason = "Director not', 'reason = "Our director was not'), "utf-8")
    policy = Policy(project=PROJECT, agreements=["dga@2023"], pack_dirs=["guardrails"])
    pack = load_pack(policy, tmp_path)
    assert pack.packs[0].file == studio / "dga.toml"
    assert pack.rule("DGA-1").reason.startswith("Our director")
    with pytest.raises(GuardrailError, match=r"guardrails-missing: rule pack folder not found"):
        load_pack(Policy(pack_dirs=["guardrails-missing"]), tmp_path)


def test_one_rule_id_in_two_packs_is_refused(tmp_path: Path) -> None:
    studio = tmp_path / "guardrails"
    copy = _studio(
        studio,
        "copy",
        """
[[rules]]
id = "DGA-1"
status = "I"
sources = ["H1"]
gates = ["approve"]
requires = "director-consultation"
reason = "Consult the director: {detail}."
""",
    )
    with pytest.raises(
        GuardrailError, match=rf"^rule id DGA-1 is in both dga@2023 \(.*dga-2023.toml\) and house@1 \({copy}\)$"
    ):
        load_pack(Policy(agreements=["dga@2023", "house@1"], pack_dirs=["guardrails"]), tmp_path)
    shutil.copy(copy, studio / "again.toml")
    with pytest.raises(GuardrailError, match=r"copy.toml: pack house@1 is also in .*again.toml"):
        load_pack(Policy(pack_dirs=["guardrails"]), tmp_path)


_GOOD_RULE = """
[[rules]]
id = "HOUSE-5"
status = "I"
sources = ["H1"]
gates = ["approve"]
requires = "director-consultation"
reason = "Consult the director: {detail}."
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('requires = "director-consultation"', 'requires = "vibes"'), r"rules\[0\] \(HOUSE-5\)\.requires: Input should be"),
        (('status = "I"', 'status = "maybe"'), r"rules\[0\] \(HOUSE-5\)\.status: Input should be"),
        (('gates = ["approve"]', 'gates = ["publish"]'), r"rules\[0\] \(HOUSE-5\)\.gates\.0: Input should be"),
        (('sources = ["H1"]', 'sources = ["H9"]'), "rule HOUSE-5: cites source H9, which \\[sources\\] does not name"),
        (("{detail}", "{detail} for {performer}"), r"rule HOUSE-5: reason names \{performer\}, which director-consultation"),
        (('requires = "director-consultation"', 'requires = "director-consultation"\nscope = { deceased = true }'),
         "rule HOUSE-5: scope key 'deceased' means nothing to requirement director-consultation"),
        (('requires = "director-consultation"', 'requires = "director-consultation"\nparams = { role = 3 }'),
         "rule HOUSE-5: params.role: Input should be a valid string"),
        (('id = "HOUSE-5"', 'id = "house 5"'), r"rules\[0\] \(house 5\)\.id: String should match pattern"),
        (("[[rules]]", "[[rules]\n"), "not a TOML rule pack"),
    ],
    ids=["requirement", "status", "gate", "source", "template", "scope", "params", "id", "toml"],
)  # fmt: skip
def test_a_bad_pack_file_is_one_line_naming_file_and_rule(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    path = _studio(tmp_path, "house", _GOOD_RULE)
    read_pack(path)
    path.write_text(path.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    with pytest.raises(GuardrailError, match=message) as refused:
        read_pack(path)
    assert str(refused.value).startswith(str(path)) and "\n" not in str(refused.value)


def test_every_requirement_has_its_kind() -> None:
    assert set(KINDS) == set(Requirement)


def test_the_docs_list_every_rule() -> None:
    docs = (REPO / "docs" / "guardrails.md").read_text(encoding="utf-8")
    for _, rules in catalogue([BUILT_IN]).values():
        for rule in rules:
            assert f"| {rule.id} |" in docs, rule.id


def test_a_loaded_pack_is_kept_until_a_pack_file_changes(tmp_path: Path) -> None:
    # Every approval asks for the pack: it is read once, and again only when a file changes.
    rule = """
[[rules]]
id = "HOUSE-9"
status = "I"
sources = ["H1"]
gates = ["approve"]
requires = "union-notice"
reason = "{reason}: {{detail}}."
"""
    path = _studio(tmp_path / "guardrails", "notices", rule.format(reason="Notify the guild"))
    policy = Policy(project=PROJECT, agreements=["house@1"], pack_dirs=["guardrails"])
    first = load_pack(policy, tmp_path)
    assert load_pack(policy, tmp_path) is first
    assert load_pack(policy.model_copy(), tmp_path) is first  # an equal policy, read again from soundstage.toml
    # An edited file is read again, even one whose size and time happen to look alike.
    stat = path.stat()
    path.write_text(STUDIO_HEADER.format(id="house") + rule.format(reason="Notify the union"), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    edited = load_pack(policy, tmp_path)
    assert edited is not first and edited.rule("HOUSE-9").reason.startswith("Notify the union")
    # A pack file added beside it is found; a removed one is missed at once.
    _studio(tmp_path / "guardrails", "more", rule.replace("HOUSE-9", "HOUSE-10").format(reason="Tell"), "house-more")
    both = Policy(project=PROJECT, agreements=["house@1", "house-more@1"], pack_dirs=["guardrails"])
    assert load_pack(both, tmp_path).rule("HOUSE-10")
    (tmp_path / "guardrails" / "more.toml").unlink()
    with pytest.raises(GuardrailError, match="no rule pack house-more@1 on the search path"):
        load_pack(both, tmp_path)
    # A refusal is not kept: the fixed file loads.
    path.write_text("not toml [", encoding="utf-8")
    with pytest.raises(GuardrailError, match="not a TOML rule pack"):
        load_pack(policy, tmp_path)
    path.write_text(STUDIO_HEADER.format(id="house") + rule.format(reason="Notify the guild"), encoding="utf-8")
    assert load_pack(policy, tmp_path).rule("HOUSE-9").reason.startswith("Notify the guild")
