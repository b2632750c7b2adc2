"""The throttle's one table: when each counted request came, in which scope, from which key."""

from django.db import models

from minestrone.throttle.managers import HitManager


class Hit(models.Model):
    """One request a throttle counts: a job queued by an anonymous client, an API request."""

    scope = models.CharField(max_length=32)  # which limit counts it: "soup.job", "monitor.api"
    key = models.CharField(max_length=64)  # whose request: a client network, a token
    at = models.DateTimeField()

    objects = HitManager()

    class Meta:
        """Counted per scope and key over a window; cleaned up by age."""

        indexes = [models.Index(fields=["scope", "key", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} at {self.at:%Y-%m-%d %H:%M:%S}"
