"""The command line's grammar: the global ``-A/--app``, then one sub-command each with --help."""

from __future__ import annotations

import argparse

from platform_sim import __version__
from platform_sim.containers.export.kubernetes.policies import DEFAULT_INGRESS_NAMESPACE
from platform_sim.ops.logs import DEFAULT_LINES

PROG = "platform_sim"
EPILOG = (
    "State lives under $PLATFORM_SIM_HOME (default ~/.platform_sim), one folder per "
    "application. Run as root: instances get private mount and PID namespaces."
)
ALIASES = {"var": "env"}  # the older CLI's spelling


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: global -A/--app, then one sub-command each with its own --help."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="The dotCloud platform on one machine: push, inspect, operate, destroy apps.",
        epilog=EPILOG,
    )
    parser.add_argument("-A", "--app", help="application name (default: the folder's name)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in (
        _push,
        _info,
        _operations,
        _logs_and_run,
        _revisions,
        _destroy,
        _verify,
        _addon,
        _env,
        _image,
        _export,
        _kube_play,
    ):
        add(commands)
    return parser


def _push(commands: argparse._SubParsersAction) -> None:
    cmd = commands.add_parser(
        "push",
        help="upload, build and deploy a folder",
        description="Upload PATH, build its code services, deploy them "
        "beside the running version, then switch traffic to them.",
    )
    cmd.add_argument("path", nargs="?", default=".", help="folder holding dotcloud.yml (default .)")
    cmd.add_argument("--clean", action="store_true", help="rebuild virtualenvs from scratch")


def _info(commands: argparse._SubParsersAction) -> None:
    cmd = commands.add_parser(
        "info",
        help="services, instances, URLs, ports, credentials",
        description="Describe the application or one of its services: a table, or JSON.",
    )
    cmd.add_argument("service", nargs="?", metavar="SVC", help="only this service")
    cmd.add_argument("--json", action="store_true", help="print JSON, for scripts")
    cmd = commands.add_parser(
        "url", help="the HTTP URL of web services", description="Print the web services' URLs."
    )
    cmd.add_argument("service", nargs="?", metavar="SVC", help="only this service")
    cmd = commands.add_parser(
        "status",
        help="up or down, per instance",
        description="Say whether each instance is up (every program running; web instances "
        "answering) or down, and why.",
    )
    cmd.add_argument("target", nargs="?", metavar="SVC[.N]", help="only this service or instance")


def _operations(commands: argparse._SubParsersAction) -> None:
    cmd = commands.add_parser(
        "scale",
        help="change the number of instances (redeploys)",
        description="Redeploy with N instances of a code service: new instances start beside "
        "the running ones, then traffic switches. Data services cannot be scaled.",
    )
    cmd.add_argument("assignments", nargs="+", metavar="SVC=N", help="or SVC:instances=N")
    cmd = commands.add_parser(
        "restart",
        help="restart one instance, or a data service (db, broker)",
        description="Restart every program of one instance (the instance must be named).",
    )
    cmd.add_argument("target", metavar="SVC.N", help="the instance, e.g. www.0")


def _logs_and_run(commands: argparse._SubParsersAction) -> None:
    cmd = commands.add_parser(
        "logs",
        help="follow the instances' logs, merged",
        description="Show the last lines of the instances' log files (supervisor, programs, "
        "nginx), each line prefixed [svc.N], then follow them until Ctrl-C.",
    )
    cmd.add_argument("targets", nargs="*", metavar="SVC[.N]", help="default: every service")
    cmd.add_argument(
        "-n",
        "--lines",
        type=int,
        default=DEFAULT_LINES,
        metavar="N",
        help=f"lines of history per file (default {DEFAULT_LINES})",
    )
    cmd.add_argument("--no-follow", action="store_true", help="print the history and exit")
    cmd = commands.add_parser(
        "run",
        help="run a command in an instance",
        description="Run CMD (default: a shell) in an instance's home, with its environment, "
        "namespaces and host name; exit with the command's status. Put -- before a CMD "
        "that has options.",
    )
    cmd.add_argument("target", metavar="SVC[.N]", help="the instance (SVC alone if it has one)")
    cmd.add_argument("cmd", nargs=argparse.REMAINDER, metavar="CMD", help="command and arguments")


def _revisions(commands: argparse._SubParsersAction) -> None:
    commands.add_parser(
        "revisions",
        help="the stored revisions",
        description="List the stored revisions (the last 5 pushes and the one serving).",
    )
    cmd = commands.add_parser(
        "deploy",
        help="redeploy a stored revision (rollback)",
        description="Deploy a stored revision again, beside the running one, then switch.",
    )
    cmd.add_argument("revision", metavar="REV", help="a revision number, latest or previous")


def _destroy(commands: argparse._SubParsersAction) -> None:
    cmd = commands.add_parser(
        "destroy",
        help="stop and delete the application, or one service",
        description="Stop all processes of the application (instances, router, data "
        "services) and delete its state and data; with SVC, only that service and its data.",
    )
    cmd.add_argument("service", nargs="?", metavar="SVC", help="only this service")
    cmd.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")


def _verify(commands: argparse._SubParsersAction) -> None:
    cmd = commands.add_parser(
        "verify",
        help="rehearse a deploy's hooks in a throw-away copy (CI)",
        description="Parse, build, run every service's postinstall against "
        "fresh data services, check the supervisor configuration; remove "
        "everything afterwards. Exit status 1 if a service fails, 3 if dotcloud.yml is invalid.",
    )
    cmd.add_argument("path", nargs="?", default=".", help="folder holding dotcloud.yml (default .)")
    _env_option(cmd, "an application variable for the rehearsal (repeatable)")


def _env_option(cmd: argparse.ArgumentParser, help_text: str) -> None:
    """The repeatable ``-e NAME=VALUE`` option of the commands that take variables, and
    ``--env-file`` for secrets, which a word would show in the process list."""
    cmd.add_argument(
        "-e", "--env", action="append", default=[], metavar="NAME=VALUE", help=help_text
    )
    cmd.add_argument(
        "--env-file",
        metavar="FILE",
        help="NAME=VALUE lines, as -e but off the command line (secrets); - reads standard "
        "input; -e wins over the file",
    )


def _addon(commands: argparse._SubParsersAction) -> None:
    addon = commands.add_parser(
        "addon",
        help="manage add-ons (cloudamqp)",
        description="Add, list or remove add-ons; their credentials "
        "become application variables at the next push.",
    )
    actions = addon.add_subparsers(dest="action", metavar="ACTION", required=True)
    cmd = actions.add_parser("add", help="provision an add-on", description="Provision an add-on.")
    cmd.add_argument("name", metavar="NAME", help="cloudamqp")
    actions.add_parser("list", help="list add-ons", description="List the add-ons.")
    cmd = actions.add_parser(
        "remove",
        help="remove an add-on and its data",
        description="Stop an add-on and delete its data.",
    )
    cmd.add_argument("name", metavar="NAME", help="cloudamqp")


def _env(commands: argparse._SubParsersAction) -> None:
    env = commands.add_parser(
        "env",
        aliases=list(ALIASES),
        help="application variables (redeploys)",
        description="List, set or unset application variables (not DOTCLOUD_*); they override "
        "the build file's environment:. A change redeploys the app (before the first push, "
        "it applies at the push).",
    )
    actions = env.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the variables", description="List the variables.")
    cmd = actions.add_parser(
        "set",
        help="set variables",
        description="Set NAME=VALUE pairs, then redeploy. A secret given as a word shows in "
        "the process list while the command runs: give secrets with --from-file.",
    )
    cmd.add_argument("pairs", nargs="*", metavar="NAME=VALUE")
    cmd.add_argument(
        "--from-file",
        metavar="FILE",
        help="NAME=VALUE lines (# comments and blank lines skipped); - reads standard input",
    )
    cmd = actions.add_parser(
        "unset", help="remove variables", description="Remove variables, then redeploy."
    )
    cmd.add_argument("names", nargs="+", metavar="NAME")


def _image(commands: argparse._SubParsersAction) -> None:
    image = commands.add_parser(
        "image",
        help="container images of the app (Podman)",
        description="Build OCI images of the app's services with Podman.",
    )
    actions = image.add_subparsers(dest="action", metavar="ACTION", required=True)
    cmd = actions.add_parser(
        "build",
        help="one image per service of dotcloud.yml",
        description="Build one image per service of PATH's dotcloud.yml and print their names "
        "(localhost/APP-SERVICE:REVISION, REVISION a digest of the pushed tree). Code services: "
        "code, virtualenv, Supervisor (nginx and gunicorn for python), the platform's "
        "entrypoint; data services: backing_services' image of their kind, from Debian's "
        "packages.",
    )
    cmd.add_argument("path", nargs="?", default=".", help="folder holding dotcloud.yml (default .)")
    cmd.add_argument(
        "--base",
        metavar="IMAGE",
        help="any Debian-bookworm-based image to start from (default: one built from "
        "Debian's packages with debootstrap, once)",
    )


def _export(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="deployment files for other engines (compose, kubernetes)",
        description="Write files that run the app elsewhere.",
    )
    actions = export.add_subparsers(dest="action", metavar="FORMAT", required=True)
    cmd = actions.add_parser(
        "compose",
        help="a compose.yaml for the app's images",
        description="Write DIR/compose.yaml (Compose specification) running the images of "
        "`image build`, and owner-only env files holding the secrets.",
    )
    cmd.add_argument("path", nargs="?", default=".", help="folder holding dotcloud.yml (default .)")
    cmd.add_argument("-o", "--output", required=True, metavar="DIR", help="where to write")
    cmd.add_argument("--force", action="store_true", help="write into a non-empty DIR")
    cmd.add_argument(
        "--port", type=int, default=8080, help="loopback port of the (first) web service"
    )
    cmd = actions.add_parser(
        "kubernetes",
        help="Kubernetes manifests for kubectl apply -f DIR",
        description="Write Kubernetes manifests for PATH's dotcloud.yml into DIR, one kind of "
        "object per file: a Namespace, Secrets (each code service's environment, each "
        "data service's credentials), Deployments, StatefulSets, Services, an Ingress. "
        "Variables (env set) and scale come from the app of the same name when it exists.",
    )
    cmd.add_argument("path", nargs="?", default=".", help="folder holding dotcloud.yml (default .)")
    cmd.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write into")
    cmd.add_argument("--namespace", metavar="NS", help="default: the application's name")
    cmd.add_argument(
        "--image-prefix",
        default="localhost/",
        metavar="REGISTRY/",
        help="where the images of image build are pushed (default localhost/)",
    )
    cmd.add_argument(
        "--tag", help="the images' tag (default: the revision image build gives PATH's tree)"
    )
    cmd.add_argument("--storage-class", metavar="NAME", help="of the data services' volumes")
    cmd.add_argument("--host", metavar="HOST", help="the Ingress host (default: any host)")
    cmd.add_argument("--tls-secret", metavar="NAME", help="TLS certificate Secret for --host")
    cmd.add_argument(
        "--ingress-namespace",
        default=DEFAULT_INGRESS_NAMESPACE,
        metavar="NS",
        help="the Ingress controller's namespace: the only one the web pods accept traffic "
        f"from (default {DEFAULT_INGRESS_NAMESPACE})",
    )
    cmd.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="SVC=URL",
        help="use a managed data service instead of a StatefulSet (repeatable)",
    )
    cmd.add_argument(
        "--autoscale",
        action="append",
        default=[],
        metavar="SVC=MIN:MAX",
        help="a KEDA ScaledObject keeping the worker service SVC from MIN to MAX pods, "
        "following the RabbitMQ queue's length (repeatable)",
    )
    _env_option(cmd, "an application variable on top of the app's (repeatable)")


def _kube_play(commands: argparse._SubParsersAction) -> None:
    play = commands.add_parser(
        "kube-play",
        help="run an export kubernetes folder here with Podman (no cluster)",
        description="Run the manifests of export kubernetes under podman kube play on this "
        "machine: the Deployments as written, the Secrets, StatefulSets and Services "
        "translated for Podman (README: Export to Kubernetes, local run).",
    )
    actions = play.add_subparsers(dest="action", metavar="ACTION", required=True)
    cmd = actions.add_parser(
        "up",
        help="start or update the app; print its URL",
        description="Start (or update: changed Deployments are replaced) the app of DIR.",
    )
    cmd.add_argument("folder", metavar="DIR", help="a folder written by export kubernetes")
    cmd.add_argument("--port", type=int, help="loopback port of the web service (default: free)")
    cmd = actions.add_parser(
        "down",
        help="remove everything up created",
        description="Remove the pods, volumes, secrets and network the run of DIR created.",
    )
    cmd.add_argument("folder", metavar="DIR", help="the folder given to up")
