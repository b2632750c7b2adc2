"""Compose a build file's YAML safely: plain data only, bounded size, depth and expansion.

Every problem (a syntax error, a control character, a Python or unknown tag, a value its tag
cannot hold, too deep or too large) is a BuildFileError with its line and column, never an
exception from the YAML library.
"""

from __future__ import annotations

import yaml
from yaml.events import AliasEvent, NodeEvent
from yaml.nodes import Node, ScalarNode
from yaml.reader import ReaderError

from platform_sim.errors import BuildFileError

# A dotcloud.yml is a few kilobytes: these bounds leave room and refuse what cannot be one.
MAX_CHARACTERS = 256 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000  # composed nodes, an alias counting as the whole subtree it repeats
_TAG_PREFIX = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(
    _TAG_PREFIX + name
    for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp", "merge")
)
_VALUE_ERRORS = (ValueError, LookupError, TypeError, AttributeError, ArithmeticError)


def short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:int`` as the file spells it, ``!!int``."""
    return "!!" + tag[len(_TAG_PREFIX) :] if tag.startswith(_TAG_PREFIX) else tag


class BuildFileLoader(yaml.SafeLoader):
    """The safe loader, refusing on the way what a build file cannot hold."""

    def __init__(self, text: str, filename: str) -> None:
        super().__init__(text)
        self.filename = filename
        self.depth = 0
        self.nodes = 0
        self.sizes: dict[str, int] = {}

    def refuse(self, message: str, mark: yaml.Mark | None) -> BuildFileError:
        """The error for ``message`` at ``mark`` (line 1, column 1 without one)."""
        if mark is None:
            return BuildFileError(message, 1, 1, self.filename)
        return BuildFileError(message, mark.line + 1, mark.column + 1, self.filename)

    def compose_node(self, parent: Node | None, index: object) -> Node:
        """Compose one node, counting depth and size, and checking its tag and value."""
        event = self.peek_event()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.refuse(f"Values nested more than {MAX_DEPTH} levels deep", event.start_mark)
        if (
            isinstance(event, AliasEvent)
            and event.anchor in self.anchors
            and event.anchor not in self.sizes
        ):
            raise self.refuse(
                f"The alias *{event.anchor} is inside its own anchor", event.start_mark
            )
        before = self.nodes
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if isinstance(event, AliasEvent):
            self.nodes += self.sizes.get(event.anchor, 1)
        else:
            self.nodes += 1
            if isinstance(event, NodeEvent) and event.anchor is not None:
                self.sizes[event.anchor] = self.nodes - before
            self._check(node)
        if self.nodes > MAX_NODES:
            raise self.refuse(
                f"Too many values (more than {MAX_NODES}, aliases included)", event.start_mark
            )
        return node

    def _check(self, node: Node) -> None:
        if node.tag not in ALLOWED_TAGS:
            raise self.refuse(
                f"The tag {short_tag(node.tag)} is not allowed: a build file holds strings, "
                "numbers, booleans, lists and mappings only",
                node.start_mark,
            )
        if isinstance(node, ScalarNode) and node.tag != _TAG_PREFIX + "merge":
            try:
                self.construct_object(node)
            except _VALUE_ERRORS:
                shown = node.value if len(node.value) <= 40 else node.value[:40] + "…"
                raise self.refuse(
                    f'"{shown}" is not a valid {short_tag(node.tag)} value '
                    "(quote it to keep it as text)",
                    node.start_mark,
                ) from None


def compose(text: str, filename: str) -> tuple[Node | None, BuildFileLoader]:
    """The root node of ``text`` and the loader that can construct its values."""
    if len(text) > MAX_CHARACTERS:
        raise BuildFileError(
            f'"{filename}" is {len(text)} characters long; a build file holds at most '
            f"{MAX_CHARACTERS}",
            None,
        )
    try:
        loader = BuildFileLoader(text, filename)
    except ReaderError as exc:
        raise _control_character(exc, text, filename) from None
    try:
        return loader.get_single_node(), loader
    except yaml.MarkedYAMLError as exc:
        raise syntax_error(exc, filename) from None
    except yaml.YAMLError as exc:
        raise BuildFileError(f"YAML syntax error: {exc}", 1, 1, filename) from None
    finally:
        loader.dispose()


def construct(loader: BuildFileLoader, node: Node) -> object:
    """The Python value of a composed node (a mapping with a list as key is refused here)."""
    try:
        return loader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:
        raise syntax_error(exc, loader.filename) from None


def _control_character(exc: ReaderError, text: str, filename: str) -> BuildFileError:
    position = exc.position
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    return BuildFileError(
        f"The character U+{code:04X} is not allowed (control and non-printable characters "
        "cannot appear in a build file)",
        line,
        column,
        filename,
    )


def syntax_error(exc: yaml.MarkedYAMLError, filename: str) -> BuildFileError:
    """The platform's message for the YAML library's positioned error."""
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if exc.context and exc.problem:
        joined = exc.problem.startswith("but ")
        problem = f"{exc.context}, {problem}" if joined else f"{problem} ({exc.context})"
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return BuildFileError(f"YAML syntax error: {problem}", line, column, filename)
