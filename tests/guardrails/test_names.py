"""Real people's names in prompts: whole words, any case, any accents, never inside other words."""

from __future__ import annotations

import pytest

from soundstage.guardrails.model import Performer
from soundstage.guardrails.names import fold, mentions, names_in, people_named

PERFORMERS = (
    Performer("Ada Lind", aliases=("Ada Lindqvist",)),
    Performer("Zoë Park"),
    Performer("Søren Økland"),
    Performer("Siobhán O'Neill"),
    Performer("Nova", synthetic=True),
)


@pytest.mark.parametrize(
    "prompt",
    [
        "close-up of MAISIE, face of Ada Lind",
        "close-up, ADA LIND, soft light",
        "ada   lind's smile",
        "(Ada Lind:1.3), storybook style",
        "a girl like Ada-Lind",
        "styled after ada_lind",
        "Ada\nLind at the counter",
        "face of Ada Lindqvist",  # the alias counts as her
    ],
)
def test_a_performers_name_is_found_in_any_case_and_spacing(prompt: str) -> None:
    assert people_named(prompt, PERFORMERS) == ("Ada Lind",)


@pytest.mark.parametrize(
    ("prompt", "who"),
    [
        ("JUNO, voiced like Zoe Park", "Zoë Park"),
        ("voiced like ZOË PARK", "Zoë Park"),
        ("voiced like Zoe\u0308 Park", "Zoë Park"),  # the diaeresis as a combining mark
        ("a fisherman like Soren Okland", "Søren Økland"),
        ("in the manner of siobhan o'neill", "Siobhán O'Neill"),
        ("in the manner of Siobhán O\u2019Neill", "Siobhán O'Neill"),
    ],
)
def test_accents_are_ignored_both_ways(prompt: str, who: str) -> None:
    assert people_named(prompt, PERFORMERS) == (who,)


@pytest.mark.parametrize(
    "prompt",
    [
        "Adam Lindgren at the counter",  # both words inside longer words
        "Canada Linden trees",
        "a parkland near Zoetrope",  # "Park", "Zoe" inside words
        "Ada Lindberg",
        "Ada Lind2",
        "Ada, Linda",
        "Zoe Parkinson",
        "MAISIE lights the lamp",
    ],
)
def test_no_match_inside_other_words(prompt: str) -> None:
    assert people_named(prompt, PERFORMERS) == ()


def test_synthetic_performers_are_no_people_but_watched_names_are() -> None:
    assert people_named("Nova as McKee", PERFORMERS) == ()
    watched = ["Marlon Vance", "Zoe Park"]
    # A watched name that is a performer is reported once, as the performer.
    assert people_named("like MARLON VANCE and Zoë Park", PERFORMERS, watched) == ("Zoë Park", "Marlon Vance")
    assert names_in("Vance Marlon", watched) == ()


def test_folding() -> None:
    assert fold("Émile Ørsted STRAßE") == "emile orsted strasse"
    assert mentions("ÉMILE DURAND's voice", "Emile Durand")
    assert not mentions("anything", "  ")
