"""The incentive estimates against the worked examples E1-E6 of ../shared/rules/incentives.md
(section 10) and against hand computations of edges: caps reached, minimums missed, ATL-only
wages, non-residents, provincial credits reducing the federal base, expired rule sets, currencies.
Every example runs from crew, hours and spend through the payroll and the shipped rule files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from soundstage.books.facts import ProductionFacts, ProductionKind
from soundstage.books.incentives import countable, estimate
from soundstage.books.model import Money, Place
from soundstage.books.programs import load_programs
from soundstage.errors import BooksError

from .ledgers import Ledger

CATALOG = load_programs()
IN_2026 = date(2026, 1, 15)
IN_2025 = date(2025, 6, 1)


def run(ledger: Ledger, facts: ProductionFacts, *ids: str, as_of: date = IN_2026):
    return estimate(ledger.books(), facts, CATALOG.select(list(ids), as_of), as_of)


def e1_ledger() -> Ledger:
    """E1: BTL wages $1.2M and non-wage spend $0.4M in the LA zone; ATL and voice cast $0.4M."""
    books = Ledger()
    books.wages(1_200_000, people=10, rate=80)
    books.wages(100_000, people=1, department="direction", role="Director", atl=True)
    books.cost(100_000, "1200", "US-CA/la-zone", vendor="Writers' loan-out")
    books.cost(200_000, "1500", "US-CA/la-zone", vendor="Voice cast")
    books.cost(150_000, "3200", "US-CA/la-zone", vendor="Stage")
    books.cost(200_000, "3100", "US-CA/la-zone", vendor="GPU cloud")
    books.cost(50_000, "3400", "US-CA/la-zone", vendor="Software")
    return books


E1_FACTS = ProductionFacts(kind=ProductionKind.SERIES, episodes=2, episode_minutes=Decimal(22))


def test_e1_california_4_animated_series_in_the_la_zone() -> None:
    ca = run(e1_ledger(), E1_FACTS, "ca-4.0").program("ca-4.0")
    assert ca.eligible, ca.reasons
    assert ca.budget == 2_000_000  # 2 episodes x $1.0M: meets the $1M-an-episode minimum
    assert ca.qualified_labour == 1_200_000 and ca.qualified_other == 400_000
    assert ca.qualified == 1_600_000
    assert ca.not_qualified == 400_000
    assert {row.rule for row in ca.breakdown if not row.qualified} == {"atl-excluded"}
    assert ca.credit == 560_000
    assert ca.certified == Decimal("537600")
    assert ca.fee == 2_800
    assert ca.jobs_ratio.quantize(Decimal("0.01")) == Decimal("2.14")
    assert ca.refund == (Decimal("100800"),) * 5
    assert ca.net == Decimal("537600") - 2_800


def test_e1_under_california_3_is_zero_animation_not_eligible() -> None:
    ca3 = run(e1_ledger(), E1_FACTS, "ca-3.0", as_of=date(2024, 6, 1)).program("ca-3.0")
    assert not ca3.eligible
    assert ca3.credit == 0 and ca3.net == 0
    assert ca3.reasons == [
        "animation is not eligible under 3.0: animated is True, must be False "
        "(California Film Commission, Program 3.0 guidelines; CohnReznick/KPM incentive map (2020-07-01) eligible projects)"
    ]


def test_e2_california_4_feature_with_out_of_zone_work() -> None:
    books = Ledger()
    books.wages(2_000_000, people=5, lives="US-CA/out-of-zone", works="US-CA/out-of-zone", rate=100)  # local hire
    books.cost(3_000_000, "3200", "US-CA/out-of-zone", vendor="Stage out of zone")
    books.wages(10_000_000, people=20, rate=100)
    books.cost(5_000_000, "3300", "US-CA/la-zone", vendor="Equipment")
    facts = ProductionFacts(kind=ProductionKind.FEATURE, animated=False, episode_minutes=Decimal(95))
    ca = run(books, facts, "ca-4.0").program("ca-4.0")
    assert ca.qualified == 20_000_000
    assert ca.base_credit == 7_000_000
    uplifts = {u.uplift: u for u in ca.uplifts}
    assert uplifts["out-of-zone"].on == 3_000_000 and uplifts["out-of-zone"].amount == 150_000
    assert uplifts["out-of-zone"].reason == ""  # the 5% pool (1,000,000) is not reached
    assert uplifts["local-hire"].on == 2_000_000 and uplifts["local-hire"].amount == 200_000
    assert ca.credit == 7_350_000


def test_e3_bc_service_production_provincial_credit_reduces_the_federal_base() -> None:
    books = Ledger("CAD")
    books.wages(10_000_000, people=10, lives="CA-BC/vancouver", works="CA-BC/vancouver", rate=125)
    facts = ProductionFacts(kind=ProductionKind.FEATURE, principal_photography=IN_2025)
    result = run(books, facts, "bc-pstc", "pstc", as_of=IN_2025)
    bc, federal = result.program("bc-pstc"), result.program("pstc")
    assert bc.credit == 3_600_000
    assert federal.assistance == 3_600_000 and federal.base == 6_400_000
    assert federal.credit == 1_024_000
    (stack,) = result.stacks
    assert stack.programs == ("bc-pstc", "pstc") and stack.credit == 4_624_000
    assert stack.credit / 10_000_000 == Decimal("0.4624")  # EP's 46.2%


def e4_ledger() -> Ledger:
    books = Ledger("CAD")
    books.wages(2_000_000, people=8, lives="CA-ON/gta", works="CA-ON/gta", rate=125)
    books.wages(
        1_000_000, people=4, department="editorial", role="Editor", lives="CA-ON/gta", works="CA-ON/gta", rate=125
    )
    books.cost(1_200_000, "3100", "CA-ON/gta", vendor="Render farm")
    books.cost(800_000, "3200", "CA-ON/gta", vendor="Studio lease")
    return books


E4_FACTS = ProductionFacts(
    kind=ProductionKind.SERIES, episodes=10, episode_minutes=Decimal(22), canadian_content=True, cancon_points=10
)


def test_e4_ontario_canadian_content_series() -> None:
    result = run(e4_ledger(), E4_FACTS, "on-ofttc", "cptc")
    ofttc, cptc = result.program("on-ofttc"), result.program("cptc")
    assert ofttc.credit == 1_050_000
    assert cptc.assistance == 1_050_000
    (cap,) = cptc.caps
    assert cap.reached and cap.before == 3_000_000 and cap.limit == 2_370_000  # 60% of 5M - 1.05M
    assert cptc.base == 2_370_000 and cptc.credit == 592_500
    assert result.stacks[0].credit == 1_642_500


def test_ocase_claimed_too_reduces_the_cptc_base_further() -> None:
    # Own computation: 2M of the 3M is animation labour. OCASE 18% x 2M = 360,000; assistance
    # 1,050,000 + 360,000; net cost 3,590,000; 60% = 2,154,000; CPTC 25% = 538,500.
    result = run(e4_ledger(), E4_FACTS, "on-ofttc", "on-ocase", "cptc")
    assert result.program("on-ocase").credit == 360_000
    cptc = result.program("cptc")
    assert cptc.assistance == 1_410_000 and cptc.base == 2_154_000 and cptc.credit == 538_500
    (stack,) = result.stacks
    assert stack.programs == ("on-ofttc", "on-ocase", "cptc") and stack.credit == 1_948_500


def test_ocase_without_ofttc_or_opstc_is_not_eligible() -> None:
    ocase = run(e4_ledger(), E4_FACTS, "on-ocase").program("on-ocase")
    assert not ocase.eligible and ocase.credit == 0 and ocase.would_be == 360_000
    assert ocase.reasons == ["claimed with one of on-ofttc, on-opstc: none of them is estimated and eligible ()"]


def test_e5_uk_avec_animated_series_80_percent_cap_and_tax() -> None:
    books = Ledger("GBP")
    books.wages(3_000_000, people=10, lives="GB", works="GB", rate=60)
    books.cost(600_000, "3100", "GB", vendor="Render farm")
    books.cost(400_000, "2600", "CA-ON", vendor="Animation service")
    books.cost(250_000, "7100", "GB", vendor="Publicity")  # marketing: not core
    facts = ProductionFacts(kind=ProductionKind.SERIES, episodes=10, episode_minutes=Decimal(11), bfi_certified=True)
    uk = run(books, facts, "uk-avec").program("uk-avec")
    assert uk.eligible, uk.reasons
    (cap,) = uk.caps
    assert cap.before == 3_600_000 and cap.limit == Decimal("3200000") and uk.base == 3_200_000
    assert uk.rate == Decimal("0.39")
    assert uk.credit == 1_248_000
    assert uk.tax == 312_000 and uk.net == 936_000
    assert uk.net / 4_000_000 == Decimal("0.234")  # 23.4% of core


def test_e6_georgia_with_the_logo() -> None:
    books = Ledger()
    books.wages(5_000_000, people=10, lives="US-CA/la-zone", works="US-GA", rate=100)  # non-residents count
    books.cost(3_000_000, "3200", "US-GA", vendor="Atlanta stage")
    ga = run(books, ProductionFacts(kind=ProductionKind.FEATURE, georgia_logo=True), "ga").program("ga")
    assert ga.qualified == 8_000_000
    assert ga.credit == 2_400_000
    assert ga.program.credit == "transferable"


# -- edges, computed by hand ------------------------------------------------------------------------


def test_california_qe_cap_reached() -> None:
    books = Ledger()
    books.wages(130_000_000, people=100, rate=100)
    ca = run(books, ProductionFacts(kind=ProductionKind.FEATURE), "ca-4.0").program("ca-4.0")
    (cap,) = ca.caps  # the independent film's cap does not apply
    assert cap.cap == "qe-cap" and cap.reached and cap.limit == 120_000_000
    assert ca.base == 120_000_000 and ca.credit == 42_000_000


def test_california_uplift_pool_holds_vfx_when_out_of_zone_fills_it() -> None:
    # QE 20M: wages 8M in the zone, VFX vendor 12M out of zone. Pool 5% x 20M = 1M: out-of-zone
    # 5% x 12M = 600,000 first, then VFX 5% x 12M = 600,000 held to the 400,000 left.
    books = Ledger()
    books.wages(8_000_000, people=8, rate=100)
    books.cost(12_000_000, "3000", "US-CA/out-of-zone", vendor="VFX house")
    ca = run(books, ProductionFacts(kind=ProductionKind.FEATURE, animated=False), "ca-4.0").program("ca-4.0")
    uplifts = {u.uplift: u for u in ca.uplifts}
    assert uplifts["out-of-zone"].amount == 600_000
    assert uplifts["visual-effects"].on == 12_000_000 and uplifts["visual-effects"].amount == 400_000
    assert "pool" in uplifts["visual-effects"].reason
    assert ca.credit == 8_000_000
    # Jobs ratio: wages 8M plus 70% of the 12M in-state VFX vendor pay, over the 7M credit.
    assert ca.qualified_wages == Decimal("16400000") and ca.jobs_ratio == Decimal("16400000") / Decimal("7000000")


def test_minimums_missed_name_the_rule_and_the_figure() -> None:
    books = e1_ledger()
    short = ProductionFacts(kind=ProductionKind.SERIES, episodes=4, episode_minutes=Decimal(11))
    ca = run(books, short, "ca-4.0").program("ca-4.0")
    assert not ca.eligible and ca.credit == 0 and ca.would_be == 560_000
    failed = {f.test: f for f in ca.findings if not f.passed}
    assert set(failed) == {"animated-series-length", "minimum-per-episode"}
    assert failed["animated-series-length"].detail == "episode minutes is 11, at least 20"
    assert failed["minimum-per-episode"].detail == "budget per episode is 500,000, at least 1,000,000"
    assert "(b)(19)(A)(v)-(vii)" in failed["animated-series-length"].source

    georgia = Ledger()
    georgia.cost(400_000, "3200", "US-GA")
    ga = run(georgia, ProductionFacts(kind=ProductionKind.FEATURE), "ga").program("ga")
    assert not ga.eligible
    assert ga.reasons == [
        "at least $500k spent in Georgia: jurisdiction spend is 400,000, at least 500,000 (Georgia Film Office pages minimum $500k GA spend)"
    ]


def test_atl_only_wages_count_nothing_in_california_and_up_to_40_percent_in_new_york() -> None:
    books = Ledger()
    books.wages(
        1_000_000, people=2, department="direction", role="Director", lives="US-NY", works="US-NY", atl=True, rate=100
    )
    books.cost(1_000_000, "3200", "US-NY")
    ny = run(books, ProductionFacts(kind=ProductionKind.FEATURE), "ny").program("ny")
    (cap,) = ny.caps
    assert cap.before == 2_000_000 and cap.limit == 1_400_000  # ATL held to 40% of the other 1M
    assert ny.credit == Decimal("0.30") * 1_400_000

    atl_only = Ledger()
    atl_only.wages(1_000_000, people=2, department="voice cast", role="Voice actor", atl=True, rate=100)
    ca = run(atl_only, ProductionFacts(kind=ProductionKind.FEATURE), "ca-4.0").program("ca-4.0")
    assert ca.qualified == 0 and ca.not_qualified == 1_000_000 and ca.credit == 0
    assert [row.rule for row in ca.breakdown] == ["atl-excluded"]


def test_non_residents_are_left_out_of_the_resident_labour_credits() -> None:
    # BC residents 1M, Alberta residents working in BC 1M, US residents working in BC 1M.
    books = Ledger("CAD")
    books.wages(1_000_000, people=2, lives="CA-BC", works="CA-BC", rate=125)
    books.wages(1_000_000, people=2, lives="CA-AB", works="CA-BC", rate=125)
    books.wages(1_000_000, people=2, lives="US-WA", works="CA-BC", rate=125)
    result = run(books, ProductionFacts(kind=ProductionKind.FEATURE), "bc-pstc", "pstc", as_of=IN_2025)
    bc, federal = result.program("bc-pstc"), result.program("pstc")
    assert bc.qualified_labour == 1_000_000 and bc.credit == 360_000
    # Federal: Canadian residents in Canada (2M), net of the BC credit: 16% x 1,640,000.
    assert federal.qualified_labour == 2_000_000 and federal.credit == 262_400
    reasons = {row.rule: row.amount for row in federal.breakdown if not row.qualified}
    assert reasons == {"canadian-residents": 1_000_000}


def test_bc_regional_and_distant_uplifts_on_labour_by_work_place() -> None:
    books = Ledger("CAD")
    books.wages(1_000_000, people=2, lives="CA-BC", works="CA-BC/vancouver", rate=125)
    books.wages(1_000_000, people=2, lives="CA-BC", works="CA-BC/bc-regional", rate=125)
    books.wages(1_000_000, people=2, lives="CA-BC", works="CA-BC/bc-distant", rate=125)
    bc = run(books, ProductionFacts(kind=ProductionKind.FEATURE), "bc-pstc", as_of=IN_2025).program("bc-pstc")
    uplifts = {u.uplift: u.amount for u in bc.uplifts}
    assert uplifts == {"regional": 120_000, "distant-location": 60_000, "major-production": 0}
    assert bc.credit == Decimal("0.36") * 3_000_000 + 180_000


def test_an_expired_rule_set_and_an_unknown_program_are_one_line_errors() -> None:
    with pytest.raises(
        BooksError,
        match=r"^program ca-3.0: the rule set .* applies 2020-07-01 to 2025-06-30, not on 2026-01-15 \(field effective\)$",
    ):
        CATALOG.select(["ca-3.0"], IN_2026)
    with pytest.raises(BooksError, match="^unknown incentive program 'ca-9.0' "):
        CATALOG.select(["ca-9.0"], IN_2026)
    with pytest.raises(BooksError, match="^program ca-3.0: the rule set"):
        estimate(e1_ledger().books(), E1_FACTS, [CATALOG["ca-3.0"]], IN_2026)
    in_effect = {p.id for p in CATALOG.select(None, IN_2026)}
    assert "ca-4.0" in in_effect and "ca-3.0" not in in_effect


def test_currencies_never_mix_without_a_rate() -> None:
    books = Ledger("GBP")
    books.wages(1_000_000, people=2, lives="GB", works="GB", rate=50)
    canada = Ledger("CAD")
    canada.cost(100_000, "2600", "CA-ON")
    ledger = books.books()
    ledger.spend.extend(canada.spend)
    facts = ProductionFacts(kind=ProductionKind.FEATURE, bfi_certified=True)
    with pytest.raises(
        BooksError,
        match=r"^program uk-avec: amounts in CAD must be counted in GBP, but no exchange rate CAD->GBP was given",
    ):
        estimate(ledger, facts, [CATALOG["uk-avec"]], IN_2026)
    rated = ProductionFacts(kind=ProductionKind.FEATURE, bfi_certified=True, exchange={("CAD", "GBP"): Decimal("0.55")})
    uk = estimate(ledger, rated, [CATALOG["uk-avec"]], IN_2026).program("uk-avec")
    assert uk.caps[0].before == 1_000_000 and uk.caps[0].limit == Decimal("0.80") * 1_055_000
    chosen, skipped = countable(list(CATALOG.values()), ledger, facts)
    assert chosen == [] and len(skipped) == len(CATALOG)
    assert dict((p.id, reason) for p, reason in skipped)["ga"] == (
        "no exchange rate CAD->USD, GBP->USD (production facts: exchange)"
    )
    chosen, _ = countable(list(CATALOG.values()), ledger, rated)  # CAD<->GBP: the UK and Canada
    assert {p.country for p in chosen} == {"GB", "CA"}


def test_every_line_says_which_rule_decided_it() -> None:
    ca = run(e1_ledger(), E1_FACTS, "ca-4.0").program("ca-4.0")
    lines = list(ca.lines())
    assert len(lines) == 11 + 5  # 11 wage lines (one per person), 5 spend lines
    by_origin = {line.origin: line for line in lines if line.what == "spend"}
    assert by_origin["spend.csv:2"].decision.rule == "atl-excluded"  # the writers' loan-out
    assert by_origin["spend.csv:3"].decision.rule == "atl-excluded"  # the voice cast
    assert by_origin["spend.csv:4"].decision.qualified
    director = next(line for line in lines if line.description.startswith("Director"))
    assert not director.decision.qualified and director.amount == 100_000
    assert sum(line.counted for line in lines if line.decision.qualified) == ca.qualified


def test_the_california_refund_waits_on_net_tax() -> None:
    facts = ProductionFacts(
        kind=ProductionKind.SERIES, episodes=2, episode_minutes=Decimal(22), net_tax=Money(Decimal(60_000), "USD")
    )
    ca = run(e1_ledger(), facts, "ca-4.0").program("ca-4.0")
    assert ca.refund == (Decimal("0.90") * 500_000 / 5,) * 5  # 90% of the 500,000 over net tax
    workplan = ProductionFacts(
        kind=ProductionKind.SERIES, episodes=2, episode_minutes=Decimal(22), diversity_workplan=True
    )
    assert run(e1_ledger(), workplan, "ca-4.0").program("ca-4.0").certified == 560_000


def test_home_place_decides_local_vendors_for_resident_labour() -> None:
    books = Ledger("CAD")
    books.cost(500_000, "2600", "CA-ON/gta", vendor="Loan-out animator", local=True)
    books.cost(500_000, "2600", "CA-ON/gta", vendor="Visiting animator", local=False)
    facts = ProductionFacts(
        kind=ProductionKind.SERIES, episodes=10, episode_minutes=Decimal(22), cancon_points=8, home=Place("CA-ON")
    )
    ofttc = run(books, facts, "on-ofttc").program("on-ofttc")
    assert ofttc.qualified_labour == 500_000 and ofttc.credit == 175_000
