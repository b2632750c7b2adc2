"""``revisions`` and ``deploy REV|latest|previous``: the stored revisions, and rollback."""

from __future__ import annotations

from dataclasses import dataclass

from platform_sim.apps import AppRecord
from platform_sim.context import Context
from platform_sim.errors import UsageError
from platform_sim.release.redeploy import RedeployReport, apply
from platform_sim.release.targets import current

KEYWORDS = ("latest", "previous")


@dataclass(frozen=True)
class Revision:
    """A stored revision: what was uploaded, when, and whether it serves now."""

    number: int
    time: float
    source: str
    files: int
    current: bool


def stored(record: AppRecord) -> list[Revision]:
    """The stored revisions, oldest first."""
    serving = (record.current or {}).get("revision")
    return [
        Revision(
            int(number),
            float(entry.get("time", 0.0)),
            str(entry.get("source", "")),
            int(entry.get("files", 0)),
            int(number) == serving,
        )
        for number, entry in sorted(record.revisions.items(), key=lambda item: int(item[0]))
    ]


def resolve(record: AppRecord, word: str) -> int:
    """The revision ``word`` names: a number, ``latest``, or ``previous`` (before the serving)."""
    numbers = [revision.number for revision in stored(record)]
    listing = ", ".join(map(str, numbers)) or "none"
    if word == "latest":
        return numbers[-1]
    if word == "previous":
        serving = int(record.current["revision"])
        older = [number for number in numbers if number < serving]
        if not older:
            raise UsageError(
                f"no revision before {serving} is stored (stored: {listing}); "
                "see platform_sim revisions"
            )
        return older[-1]
    if not (word.isascii() and word.isdigit()):
        raise UsageError(f"{word!r} is not a revision: write a number, latest or previous")
    if int(word) not in numbers:
        raise UsageError(f"revision {word} is not stored (stored: {listing}; the last 5 are kept)")
    return int(word)


def deploy(ctx: Context, word: str) -> RedeployReport | None:
    """Redeploy a stored revision (rollback, or forward again)."""
    revision = resolve(current(ctx.paths).record, word)
    return apply(ctx, None, reason=f"Deploying revision {revision} ({word})", revision=revision)
