"""The soup app's one table: when each anonymous job was queued, and from which network."""

from django.db import models


class JobSubmission(models.Model):
    """One job an anonymous visitor queued: what the per-address rate limit counts."""

    network = models.GenericIPAddressField()  # minestrone.security.client_network
    at = models.DateTimeField()

    class Meta:
        """Counted per network over a window; cleaned up by age."""

        indexes = [models.Index(fields=["network", "at"]), models.Index(fields=["at"])]

    def __str__(self) -> str:
        return f"{self.network} at {self.at:%Y-%m-%d %H:%M:%S}"
