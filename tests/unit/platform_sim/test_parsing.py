"""What day-two commands read from their command line: SVC[.N], SVC=N, K=V, REV."""

import io
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from platform_sim.appfile import buildfile
from platform_sim.appfile.environment import check_variable_name
from platform_sim.apps import AppRecord
from platform_sim.errors import BuildFileError, UsageError
from platform_sim.kinds import rabbitmq_cluster
from platform_sim.ops.scale import check_code_count, parse_all, parse_scale
from platform_sim.ops.variables import parse_assignments, read_assignments
from platform_sim.release.revisions import resolve
from platform_sim.release.targets import Ref, parse_ref


@pytest.mark.parametrize(
    ("word", "ref"),
    [
        ("www", Ref("www")),
        ("www.0", Ref("www", 0)),
        ("workers.12", Ref("workers", 12)),
        ("a_b_9", Ref("a_b_9")),
        ("sixteen_chars_ok.1", Ref("sixteen_chars_ok", 1)),
    ],
)
def test_instance_references(word, ref):
    assert parse_ref(word) == ref
    assert str(ref) == word


@pytest.mark.parametrize(
    "word",
    ["", "WWW", "www.", "www.x", "www.-1", ".0", "www.0.1", "www:0", "seventeen_chars_x", "www\n"],
)
def test_bad_instance_references_say_the_expected_form(word):
    with pytest.raises(UsageError, match=r"is neither SVC nor SVC\.N: .* e\.g\. www or www\.0"):
        parse_ref(word)


@pytest.mark.parametrize(
    ("word", "parsed"),
    [
        ("www=2", ("www", 2)),
        ("workers:instances=3", ("workers", 3)),
        ("www=1", ("www", 1)),
        ("www=10", ("www", 10)),
        ("www=007", ("www", 7)),
    ],
)
def test_scale_assignments(word, parsed):
    assert parse_scale(word) == parsed


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("www", "'www' is not SVC=N: write e.g. workers=2 or workers:instances=2"),
        ("=2", "'=2' is not SVC=N"),
        ("www=two", "'two' is not a number of instances: write e.g. www=2"),
        ("www=", "'' is not a number of instances"),
        ("www=-1", "'-1' is not a number of instances"),
        ("www=2.5", "'2.5' is not a number of instances"),
        ("www=\u00b2", "'\u00b2' is not a number of instances"),
        ("www=2\n", "'www=2\\n' is not SVC=N"),
        ("www:memory=512M", "'www:memory=512M': platform_sim scales the number of instances only"),
    ],
)
def test_bad_scale_assignments(word, message):
    with pytest.raises(UsageError) as caught:
        parse_scale(word)
    assert str(caught.value).startswith(message)


def test_several_scale_assignments_the_last_wins():
    assert parse_all(["www=2", "workers=3", "www:instances=4"]) == {"www": 4, "workers": 3}


@pytest.mark.parametrize(
    ("pairs", "values"),
    [
        (["A=1"], {"A": "1"}),
        (["A="], {"A": ""}),
        (["URL=amqp://u:p@h/v?x=1"], {"URL": "amqp://u:p@h/v?x=1"}),
        (["A=1", "B=two words", "A=3"], {"A": "3", "B": "two words"}),
        (["_private=1"], {"_private": "1"}),
    ],
)
def test_variable_assignments(pairs, values):
    assert parse_assignments(pairs) == values


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ("NOEQUALS", "'NOEQUALS' is not NAME=VALUE: write NOEQUALS=value"),
        ("=value", "'' is not a valid variable name"),
        ("9LIVES=1", "'9LIVES' is not a valid variable name: use letters, digits and _"),
        ("A-B=1", "'A-B' is not a valid variable name"),
        ("DOTCLOUD_PROJECT=x", "DOTCLOUD_PROJECT: names starting with DOTCLOUD_ are reserved"),
        ("dotcloud_service_id=3", "dotcloud_service_id: names starting with DOTCLOUD_ are"),
    ],
)
def test_bad_variable_assignments(pair, message):
    with pytest.raises(UsageError) as caught:
        parse_assignments(["GOOD=1", pair])
    assert str(caught.value).startswith(message)


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_variables_file_gives_variables_or_one_line(data):
    try:
        values = read_assignments("-", io.BytesIO(data))
    except UsageError as exc:
        assert str(exc).startswith("standard input") and "\n" not in str(exc)
    else:
        assert values and not any(map(has_control_character, values.values()))
        assert len(values) <= data.count(b"\n") + 1
        for name in values:
            check_variable_name(name)


def has_control_character(text: str) -> bool:
    """Whether ``text`` holds a control or line-separator character other than a tab."""
    return any(c != "\t" and unicodedata.category(c) in {"Cc", "Zl", "Zp"} for c in text)


# Every character str.splitlines() breaks a line at, besides \n.
OTHER_LINE_BREAKS = ["\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


@given(st.text(max_size=30), st.sampled_from(OTHER_LINE_BREAKS), st.sampled_from(["\n", "\r\n"]))
def test_a_value_never_becomes_another_variable(value, smuggler, end):
    data = f"DJANGO_SECRET_KEY={value}{smuggler}DJANGO_DEBUG=1{end}".encode()
    with pytest.raises(UsageError) as caught:
        read_assignments("-", io.BytesIO(data))
    assert str(caught.value).startswith("standard input, line ")
    assert "holds the control character U+" in str(caught.value)


def test_lines_end_at_a_newline_with_or_without_a_carriage_return():
    data = b"A=1\r\nB=two words\tand a tab\nC=3"
    values = {"A": "1", "B": "two words\tand a tab", "C": "3"}
    assert read_assignments("-", io.BytesIO(data)) == values


def record_with_revisions(numbers, serving):
    record = AppRecord(name="app")
    record.revisions = {str(n): {"time": n, "source": "/src", "files": 1} for n in numbers}
    record.current = {"generation": 9, "revision": serving, "instances": []}
    return record


@pytest.mark.parametrize(
    ("word", "revision"),
    [("latest", 7), ("previous", 5), ("4", 4), ("7", 7), ("6", 6)],
)
def test_revision_words(word, revision):
    assert resolve(record_with_revisions([3, 4, 5, 6, 7], serving=6), word) == revision


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("2", "revision 2 is not stored (stored: 3, 4, 5, 6, 7; the last 5 are kept)"),
        ("last", "'last' is not a revision: write a number, latest or previous"),
        ("-1", "'-1' is not a revision"),
        ("\u00b2", "'\u00b2' is not a revision"),
    ],
)
def test_unknown_revisions(word, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        resolve(record_with_revisions([3, 4, 5, 6, 7], serving=7), word)


def test_no_previous_revision():
    with pytest.raises(UsageError, match="no revision before 3 is stored"):
        resolve(record_with_revisions([3, 4], serving=3), "previous")


@pytest.mark.parametrize(("name", "number"), [("www", 0), ("www", 11)])
def test_a_code_service_runs_1_to_10_instances(name, number):
    with pytest.raises(UsageError, match=f"^{name}={number}: a service runs 1 to 10 instances"):
        check_code_count(name, number)


@given(st.integers(min_value=0, max_value=10**6))
def test_a_rabbitmq_cluster_has_1_or_3_nodes_and_any_other_size_names_the_rule(size):
    if size in (1, 3):
        assert rabbitmq_cluster.check_size(size, "broker") == size
        return
    with pytest.raises(UsageError) as caught:
        rabbitmq_cluster.check_size(size, "broker")
    assert caught.value.message.startswith(
        f"broker: a RabbitMQ service runs 1 or 3 node(s), not {size} "
    )
    assert "\n" not in caught.value.message


@given(st.text(max_size=12))
def test_a_rabbitmq_services_instances_in_the_build_file_are_1_or_3(count):
    text = f"broker:\n  type: rabbitmq\n  instances: {count}\n"
    try:
        parsed = buildfile.parse(text)
    except BuildFileError as exc:
        assert "\n" not in exc.message
        return
    assert parsed.services["broker"].instances in (1, 3)


@pytest.mark.parametrize("count", [0, 2, 4])
def test_a_rabbitmq_service_of_2_4_or_0_instances_is_refused_where_it_is_written(count):
    with pytest.raises(BuildFileError) as caught:
        buildfile.parse(f"broker:\n  type: rabbitmq\n  instances: {count}\n")
    assert caught.value.line == 3
    if count:
        assert caught.value.problem.startswith(
            f'Service "broker": a RabbitMQ service runs 1 or 3 node(s), not {count}'
        )
