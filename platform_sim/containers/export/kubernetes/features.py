"""Build-file features the export maps onto Kubernetes, and those it refuses (one line each)."""

from __future__ import annotations

from platform_sim.appfile.buildfile import BuildFile, Service
from platform_sim.containers.export.kubernetes.names import check_service_name
from platform_sim.containers.images import CODE_TYPES
from platform_sim.errors import UsageError
from platform_sim.kinds.rabbitmq_cluster import check_size
from platform_sim.kinds.registry import KINDS


def check_buildfile(buildfile: BuildFile) -> None:
    """Refuse what has no Kubernetes equivalent in this export, saying what to do instead."""
    web = [service.name for service in buildfile.code_services() if service.is_web]
    if len(web) > 1:
        raise UsageError(
            f"dotcloud.yml has {len(web)} web services ({', '.join(web)}): the export routes "
            "one per Ingress host; export one application per web service"
        )
    for service in buildfile.services.values():
        check_service_name(service.name)
        _check_service(service)


def _check_service(service: Service) -> None:
    where = f"service {service.name!r} (line {service.position[0]} of dotcloud.yml)"
    if service.is_code and service.type not in CODE_TYPES:
        raise UsageError(
            f"{where} has type {service.type!r}: export kubernetes builds "
            f"{' and '.join(CODE_TYPES)} code services only (the images of image build)"
        )
    if not service.is_code and service.type not in KINDS:
        raise UsageError(
            f"{where} has type {service.type!r}, which the export cannot run: point the app "
            f"at a managed one (it runs {', '.join(KINDS)} only; see --external)"
        )
    if service.ports:
        raise UsageError(
            f"{where} declares ports: ({', '.join(service.ports)}): a pod's ports have no "
            "per-instance host ports in Kubernetes; remove them and add a Service of your own"
        )
    if service.type == "rabbitmq":
        check_size(service.instances, where)
    elif not service.is_code and service.instances > 1:
        raise UsageError(
            f"{where} asks for {service.instances} instances: replicated data services "
            "other than RabbitMQ (3 nodes) are not exported; use a managed service with --external"
        )
