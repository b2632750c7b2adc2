"""``export kubernetes``: the build file, variables and scale as manifests in a folder."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_sim.appfile.buildfile import BuildFile
from platform_sim.appfile.environment import (
    Endpoint,
    Topology,
    check_variable_name,
    instance_environment,
)
from platform_sim.containers import images
from platform_sim.containers.export.base import Exporter, ExportRequest, OutputFile
from platform_sim.containers.export.kubernetes import (
    autoscale,
    cluster,
    code,
    data,
    policies,
    web,
)
from platform_sim.containers.export.kubernetes.external import parse_externals
from platform_sim.containers.export.kubernetes.features import check_buildfile
from platform_sim.containers.export.kubernetes.files import (
    FILES,
    by_file,
    check_folder,
    previous_secrets,
    to_yaml,
)
from platform_sim.containers.export.kubernetes.meta import Target, data_digest, labels
from platform_sim.containers.export.kubernetes.names import (
    LABEL,
    check_host,
    check_image_prefix,
    check_namespace,
    check_object_name,
    image_reference,
)
from platform_sim.containers.facts import WEB_PORT
from platform_sim.errors import UsageError
from platform_sim.output import Printer

DEFAULT_PREFIX = "localhost/"
# With --tls-secret the Ingress terminates TLS and says so in X-Forwarded-Proto: the app must
# trust that header (minestrone's variable; an explicit -e wins).
BEHIND_HTTPS = "DJANGO_BEHIND_HTTPS"


@dataclass(frozen=True)
class KubernetesRequest(ExportRequest):
    """``export kubernetes``'s request: namespace, images, storage, Ingress, external services."""

    namespace: str | None = None
    image_prefix: str = DEFAULT_PREFIX
    tag: str | None = None  # default: the revision ``image build`` tags PATH's images with
    storage_class: str | None = None
    host: str | None = None
    tls_secret: str | None = None
    ingress_namespace: str = policies.DEFAULT_INGRESS_NAMESPACE
    externals: tuple[str, ...] = ()
    autoscale: tuple[str, ...] = ()  # SVC=MIN:MAX, KEDA following the queue


def target_for(app: str, request: KubernetesRequest) -> Target:
    """Namespace (the app's name by default), image prefix and tag, each checked."""
    namespace = request.namespace
    if namespace is None:
        namespace = app.lower()
        if not LABEL.fullmatch(namespace):
            raise UsageError(
                f"the application name {app!r} cannot name a namespace: pass --namespace NS "
                "(lowercase letters, digits and '-')"
            )
    if not LABEL.fullmatch(app.lower()):
        raise UsageError(
            f"the application name {app!r} cannot be a Kubernetes label: export it under "
            "another name with -A (lowercase letters, digits and '-')"
        )
    tag = request.tag if request.tag is not None else tree_tag(request.folder, request.out)
    return Target(app, check_namespace(namespace), check_image_prefix(request.image_prefix), tag)


def tree_tag(folder: Path, out: Path | None = None) -> str:
    """The tag ``image build`` gives the images of ``folder`` (a digest of what it uploads)."""
    with images.uploaded(folder, Printer(io.StringIO()), exclude=out) as (_, revision):
        return revision


def check_options(request: KubernetesRequest) -> None:
    """Refuse, in one line, an option Kubernetes would refuse (host, names, variables)."""
    if request.host is not None:
        check_host(request.host)
    if request.storage_class is not None:
        check_object_name(request.storage_class, "--storage-class")
    check_namespace(request.ingress_namespace, "--ingress-namespace")
    if request.tls_secret is not None:
        check_object_name(request.tls_secret, "--tls-secret")
        if request.host is None:
            raise UsageError("--tls-secret needs --host: a certificate is for a host name")
    for name in request.variables:
        check_variable_name(name)


def endpoints(
    parsed: BuildFile,
    externals: Mapping[str, Endpoint],
    earlier: Mapping[str, dict[str, str]],
    nodes: Mapping[str, list[Endpoint]],
) -> dict[str, Endpoint]:
    """Each data service's endpoint: external, else in-cluster (earlier passwords kept; a
    cluster's first node's name, as on the platform)."""
    found = dict(externals)
    for service in parsed.data_services():
        if service.name in found:
            continue
        found[service.name] = nodes[service.name][0] if service.name in nodes else (
            data.new_endpoint(service, earlier)
        )
    return found


def cluster_nodes(
    target: Target,
    parsed: BuildFile,
    request: KubernetesRequest,
    externals: Mapping[str, Endpoint],
    earlier: Mapping[str, dict[str, str]],
) -> dict[str, list[Endpoint]]:
    """Each in-cluster clustered service's nodes (node 0 first), sizes checked."""
    found = {}
    for service in parsed.data_services():
        if service.name in externals or not cluster.is_cluster(service, request.scale):
            continue
        count = cluster.size(service, request.scale)
        endpoint = data.new_endpoint(service, earlier)
        found[service.name] = cluster.node_endpoints(target, service, endpoint, count)
    return found


def build_objects(app: str, parsed: BuildFile, request: KubernetesRequest) -> list[dict[str, Any]]:
    """Every object, checked; raises UsageError before anything is written."""
    check_buildfile(parsed)
    check_options(request)
    target = target_for(app, request)
    externals = parse_externals(request.externals, parsed)
    earlier = previous_secrets(request.out)
    scaled = autoscale.parse(request.autoscale, parsed)
    broker = autoscale.broker_of(parsed, externals) if scaled else None
    nodes = cluster_nodes(target, parsed, request, externals, earlier)
    reached = endpoints(parsed, externals, earlier, nodes)
    # the app's logins: a role of its own on an in-cluster PostgreSQL, the given ones elsewhere
    apps = {
        name: endpoint if name in externals
        else data.app_endpoint(parsed.services[name], endpoint, earlier)
        for name, endpoint in reached.items()
    }
    web_services = [service for service in parsed.code_services() if service.is_web]
    scheme = "https" if request.tls_secret else "http"
    urls = {s.name: f"{scheme}://{request.host}/" for s in web_services if request.host}
    ports = {(s.name, 0): {"www": WEB_PORT} for s in web_services}
    variables = dict(request.variables)
    if request.tls_secret:
        variables.setdefault(BEHIND_HTTPS, "1")
    admin = {s.name: web.admin_password(variables, earlier, s) for s in web_services}
    variables.pop(web.ADMIN_PASSWORD_VARIABLE, None)  # the web pods' own Secret holds it
    topology = Topology(app, parsed, apps, urls, ports, variables)
    references = {
        s.name: image_reference(target.image_prefix, app, s.name, target.tag)
        for s in parsed.services.values()
        if s.name not in externals
    }
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": target.namespace, "labels": labels(target, app.lower())},
    }
    objects: list[dict[str, Any]] = [namespace, policies.deny_all(target)]
    password = ""  # the broker's monitoring account's, with --autoscale
    for service in parsed.data_services():
        if service.name in externals:
            continue
        objects.append(policies.from_code(target, service, parsed.code_services()))
        objects.append(
            data.credentials(target, service, reached[service.name], apps[service.name])
        )
        headless = data.headless_service(target, service)
        stateful = data.stateful_set(
            target, service, references[service.name], request.storage_class
        )
        if service.name in nodes:
            objects += cluster.extras(target, service, len(nodes[service.name]), earlier)
            headless = cluster.headless_service(headless)
            stateful = cluster.stateful_set(stateful, target, service, len(nodes[service.name]))
        if service == broker:
            password = autoscale.monitoring_password(service, earlier)
            made, headless, stateful = autoscale.monitored(
                target, service, password, headless, stateful
            )
            objects += made
        objects += [headless, stateful]
    for service in parsed.code_services():
        replicas = request.scale.get(service.name, service.instances)
        if service.name in scaled:
            low, high = scaled[service.name].low, scaled[service.name].high
            replicas = min(max(replicas, low), high)
            objects += autoscale.objects(target, scaled[service.name], broker, password)
        environment = instance_environment(topology, service.name, 0)
        for name, node_list in nodes.items():
            environment.update(cluster.urls_variable(parsed.services[name], node_list))
        environment_secret = code.environment_secret(target, service, environment)
        objects.append(environment_secret)
        more: tuple[str, ...] = ()
        digested = dict(environment_secret["data"])
        if service.name in admin:
            admin_secret = web.admin_secret(target, service, admin[service.name])
            objects.append(admin_secret)
            more = (admin_secret["metadata"]["name"],)
            digested.update(admin_secret["data"])
        objects.append(
            code.deployment(
                target, service, references[service.name], replicas,
                data_digest({"data": digested}), more,
            )
        )
        if replicas > 1:
            objects.append(code.disruption_budget(target, service))
        if service.is_web:
            objects.append(web.service(target, service))
            objects.append(web.ingress(target, service, request.host, request.tls_secret))
            objects.append(policies.from_ingress(target, service, request.ingress_namespace))
    return objects


class KubernetesExport(Exporter):
    """The manifests, one kind of object per file, in the order ``kubectl apply`` takes them."""

    format = "kubernetes"
    what = "the manifests"
    request: KubernetesRequest

    def check_request(self) -> None:
        """No other manifests in the folder (``kubectl apply -f`` would apply them too)."""
        check_folder(self.request.out)

    def check(self, buildfile: BuildFile) -> None:
        """Features with a Kubernetes equivalent only; options Kubernetes accepts."""
        check_buildfile(buildfile)
        check_options(self.request)

    def render(self, buildfile: BuildFile) -> dict[str, OutputFile]:
        """Every object as YAML, in its file."""
        objects = build_objects(self.app, buildfile, self.request)
        return {name: OutputFile(to_yaml(chosen)) for name, chosen in by_file(objects).items()}

    def stale(self, files: Mapping[str, OutputFile]) -> list[str]:
        """The files of kinds of objects an earlier export had and this one has not."""
        return [name for name in FILES if name not in files]

    def next_steps(self) -> list[str]:
        """How to apply them."""
        return [f"apply them with: kubectl apply -f {self.request.out}"]
