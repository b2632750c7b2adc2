"""minestrone's exception family: the root every package's errors derive from, the errors
shared by several packages, and how an error's text is kept to one line."""


class MinestroneError(Exception):
    """Something minestrone refuses or cannot do; the message says what and how to fix it."""


class BrokerUnreachable(MinestroneError):
    """The broker could not be reached (connection refused, timed out, closed): nothing was
    sent to it or read from it."""


def one_line(text: str) -> str:
    """``text`` with line breaks and other non-printable characters escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
