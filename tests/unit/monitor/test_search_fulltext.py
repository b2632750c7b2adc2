"""The FULLTEXT search's index words: which beginnings of the index's words a search word needs,
checked against a model of InnoDB's word splitting (runs of letters, digits and ``_``)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minestrone.monitor.search_fulltext import boolean_query, index_words

SHORTEST, LONGEST = 3, 84


def innodb_words(text: str) -> list[str]:
    """The words InnoDB indexes of a text, lowercased (any letter or digit, and ``_``)."""
    return [w.lower() for w in re.findall(r"[^\W]+", text) if SHORTEST <= len(w) <= LONGEST]


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("job_7", ["job_7"]),
        ("soup_3", ["soup_3"]),
        ("w1@host", ["host"]),  # w1: shorter than the index's words
        ("50%", []),
        ("tasks.kitchen.4", ["tasks", "kitchen"]),
        ("id-00042", ["00042"]),
        ("café", ["caf"]),  # a beginning of the index word café
        ("écume", []),  # after é the run may be inside an index word
        ("a" * 85, []),  # longer than any index word
        ("'Soup_3'", ["Soup_3"]),
    ],
)
def test_index_words(word, parts):
    assert index_words(word, SHORTEST, LONGEST) == parts


def test_the_boolean_query_requires_each_beginning_once_in_lowercase():
    words = ["Soup_3", "w1@host", "soup_3", "50%"]
    assert boolean_query(words, SHORTEST, LONGEST) == "+soup_3* +host*"
    assert boolean_query(["50%", "w1"], SHORTEST, LONGEST) == ""


TEXT = st.text(st.sampled_from("abAB_1.-' éß@%"), max_size=40)


@given(before=TEXT, word=TEXT, after=TEXT)
def test_a_word_found_at_the_start_of_a_text_word_has_every_part_in_the_index(
    before, word, after
):
    """Where ``word`` starts a word of the text (or follows a character no word holds), each
    part it asks for is the beginning of a word InnoDB indexed: the index never hides it."""
    if before and (before[-1].isalnum() or before[-1] == "_"):
        before += " "
    indexed = innodb_words(before + word + after)
    for part in index_words(word, SHORTEST, LONGEST):
        assert any(w.startswith(part.lower()) for w in indexed), (part, indexed)
