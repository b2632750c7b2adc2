"""Hand-written fakes the unit tests share."""


class FakeClock:
    """A monotonic clock that moves only when slept on; what was slept is kept in ``slept``."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
