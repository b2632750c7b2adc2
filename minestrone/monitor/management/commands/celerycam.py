"""`manage.py celerycam`: record the workers' events in the monitor's tables (the camera)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from minestrone.monitor.conf import DEFAULTS, setting
from minestrone.monitor.errors import InvalidRate
from minestrone.monitor.rates import parse_rate

DEFAULT_CAMERA = "minestrone.monitor.camera.Camera"


def positive_float(text: str) -> float:
    """Parse a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ValueError(f"{text!r} is not a positive number of seconds")
    return value


class Command(BaseCommand):
    """Take snapshots of the cluster's events and write them to the database."""

    help = (
        "Start the events camera: every FREQUENCY seconds it writes the tasks and workers "
        "that Celery's events reported into the monitor's tables (shown in the admin), and "
        "it deletes expired rows every CLEANUP-INTERVAL seconds. SIGTERM stops it after a "
        "last snapshot is written. Workers must send events (celeryd -E)."
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        """The options of django-celery's celerycam, plus the cleanup interval."""
        parser.add_argument(
            "-F",
            "--frequency",
            "--freq",
            type=positive_float,
            default=None,
            help="Seconds between snapshots (default: MONITOR_CAMERA_FREQUENCY, "
            f"{DEFAULTS['CAMERA_FREQUENCY']:g}).",
        )
        parser.add_argument(
            "-r",
            "--maxrate",
            default=None,
            help="At most this many snapshots, e.g. 10/m or 2/s (default: no limit).",
        )
        parser.add_argument(
            "--cleanup-interval",
            type=positive_float,
            default=None,
            help="Seconds between cleanups of expired rows (default: MONITOR_CLEANUP_INTERVAL, "
            f"{DEFAULTS['CLEANUP_INTERVAL']:g}).",
        )
        parser.add_argument(
            "-c",
            "--camera",
            default=DEFAULT_CAMERA,
            help=f"Camera class (default: {DEFAULT_CAMERA}).",
        )
        parser.add_argument(
            "-l",
            "--loglevel",
            default="INFO",
            help="DEBUG, INFO, WARNING or ERROR (default: INFO).",
        )
        parser.add_argument(
            "-f", "--logfile", default=None, help="Log to this file (default: stderr)."
        )
        parser.add_argument("--pidfile", default=None, help="Write the process id to this file.")

    def handle(self, *args, **options) -> None:
        """Run the camera until SIGTERM or SIGINT."""
        from minestrone.celery_app import app
        from minestrone.monitor.runner import CameraOptions, CameraRunner

        maxrate = options["maxrate"]
        if maxrate:
            try:
                maxrate = parse_rate(maxrate)
            except InvalidRate as exc:
                raise CommandError(f"--maxrate: {exc}") from exc
        loglevel = options["loglevel"].upper()
        if loglevel not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise CommandError(f"--loglevel {options['loglevel']!r}: use DEBUG, INFO or WARNING")
        runner = CameraRunner(
            app,
            CameraOptions(
                camera=options["camera"],
                freq=options["frequency"] or float(setting("CAMERA_FREQUENCY")),
                maxrate=maxrate,
                cleanup_freq=options["cleanup_interval"],
                loglevel=loglevel,
                logfile=options["logfile"],
                pidfile=options["pidfile"],
            ),
        )
        runner.install_signal_handlers()
        runner.run()
