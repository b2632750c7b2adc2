import pytest

from minestrone.soup.errors import RoutingKeyError
from minestrone.soup.forms import EditorForm
from minestrone.soup.routing import routing_key_for


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("urgent", "tasks.urgent"),
        ("reports.daily", "tasks.reports.daily"),
        ("a_b-C9", "tasks.a_b-C9"),
        ("x" * 249, "tasks." + "x" * 249),
    ],
)
def test_routing_key_is_tasks_dot_name(name, key):
    assert routing_key_for(name) == key


@pytest.mark.parametrize(
    "name",
    ["", "a..b", ".a", "a.", "a b", "a*", "tasks.#", "#", "*", "é", "a/b", "a\tb", "a.\u00a0"],
)
def test_routing_key_names_that_are_not_amqp_words_are_refused(name):
    with pytest.raises(RoutingKeyError):
        routing_key_for(name)


def test_routing_key_over_255_bytes_is_refused_with_its_size():
    with pytest.raises(RoutingKeyError, match="256 bytes long; AMQP allows at most 255"):
        routing_key_for("x" * 250)


def form(job_name="soup", routing_key_name="urgent"):
    return EditorForm({"job_name": job_name, "routing_key_name": routing_key_name})


def test_valid_form_gives_the_routing_key():
    f = form("Minestrone pour 4 — épicée", "kitchen.urgent")
    assert f.is_valid(), f.errors
    assert f.cleaned_data["job_name"] == "Minestrone pour 4 — épicée"
    assert f.cleaned_data["routing_key"] == "tasks.kitchen.urgent"


@pytest.mark.parametrize(
    ("job_name", "routing_key_name", "field", "message"),
    [
        ("", "urgent", "job_name", "This field is required."),
        ("   ", "urgent", "job_name", "This field is required."),
        ("x" * 101, "urgent", "job_name", "at most 100 characters"),
        ("a\x00b", "urgent", "job_name", "Null characters are not allowed."),
        ("a\nb", "urgent", "job_name", "U+000A (at position 2)"),
        ("a\u2028b", "urgent", "job_name", "U+2028"),
        ("bell\x07", "urgent", "job_name", "U+0007"),
        ("\ud800", "urgent", "job_name", "U+D800"),
        ("priv\ue000", "urgent", "job_name", "U+E000"),
        ("invoice\u202etxt.exe", "urgent", "job_name", "U+202E (at position 8)"),
        ("zero\u200bwidth", "urgent", "job_name", "U+200B"),
        ("\ufeffbom", "urgent", "job_name", "U+FEFF (at position 1)"),
        ("soup", "", "routing_key_name", "This field is required."),
        ("soup", "a..b", "routing_key_name", "separated by single dots"),
        ("soup", "a b", "routing_key_name", "no spaces"),
        ("soup", "a.*", "routing_key_name", 'no "*" or "#"'),
        ("soup", "#", "routing_key_name", 'no "*" or "#"'),
        ("soup", "x" * 250, "routing_key_name", "at most 249 characters"),
    ],
)
def test_bad_input_is_a_form_error_on_its_field(job_name, routing_key_name, field, message):
    f = form(job_name, routing_key_name)
    assert not f.is_valid()
    assert list(f.errors) == [field]
    assert message in " ".join(f.errors[field])
