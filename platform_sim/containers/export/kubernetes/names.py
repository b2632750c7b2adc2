"""The names Kubernetes accepts (namespaces, hosts, image references); UsageError otherwise."""

from __future__ import annotations

import re

from platform_sim.errors import UsageError

# RFC 1123 label (namespaces, most object names) and subdomain (hosts, secrets, classes).
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
SERVICE_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")  # RFC 1035: a Service's name
MAX_SUBDOMAIN = 253
# The distribution reference grammar: registry host[:port], then path components; a tag.
REGISTRY = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"(?::[0-9]+)?$"
)
PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")  # ASCII only, as registries accept
MAX_REFERENCE = 255


def is_subdomain(name: str) -> bool:
    """Whether ``name`` is an RFC 1123 subdomain (dot-separated labels, at most 253 long)."""
    return len(name) <= MAX_SUBDOMAIN and all(LABEL.fullmatch(part) for part in name.split("."))


def check_namespace(name: str, option: str = "--namespace") -> str:
    """A namespace name: an RFC 1123 label."""
    if not LABEL.fullmatch(name):
        raise UsageError(
            f"namespace {name!r} would be refused by Kubernetes: use at most 63 lowercase "
            f"letters, digits and '-', starting and ending with a letter or digit ({option} NS)"
        )
    return name


def check_host(host: str) -> str:
    """An Ingress host: a lowercase DNS name, optionally ``*.`` first; no IP, port or scheme."""
    bare = host[2:] if host.startswith("*.") else host
    if not is_subdomain(bare):
        raise UsageError(
            f"host {host!r} would be refused by an Ingress: give a lowercase DNS name such as "
            "soup.example.com (no scheme, port or path; '*.' allowed first)"
        )
    if all(part.isdigit() for part in bare.split(".")):
        raise UsageError(f"host {host!r} is an IP address: an Ingress host must be a DNS name")
    return host


def check_object_name(name: str, what: str) -> str:
    """The name of an object we only refer to (a storage class, a TLS secret)."""
    if not is_subdomain(name):
        raise UsageError(
            f"{what} {name!r} is not a valid Kubernetes object name: use lowercase letters, "
            "digits, '-' and '.', starting and ending with a letter or digit"
        )
    return name


def check_service_name(name: str) -> str:
    """A build-file service name that can also name a Kubernetes Service (its DNS name)."""
    if not SERVICE_LABEL.fullmatch(name):
        raise UsageError(
            f"service {name!r} cannot become a Kubernetes Service (its DNS name): Kubernetes "
            "accepts lowercase letters, digits and '-', starting with a letter; rename it in "
            "dotcloud.yml (e.g. without '_')"
        )
    return name


def check_image_prefix(prefix: str) -> str:
    """``REGISTRY/[PATH/]``: where the images are pushed; returned ending with ``/``."""
    bad = UsageError(
        f"image prefix {prefix!r} is not a valid image reference prefix: give "
        "REGISTRY[:PORT]/[PATH/], e.g. registry.example.com:5000/team/ (lowercase path)"
    )
    parts = prefix.rstrip("/").split("/") if prefix else [""]
    if prefix.endswith("//") or not REGISTRY.fullmatch(parts[0]):
        raise bad
    if not all(PATH_COMPONENT.fullmatch(part) for part in parts[1:]):
        raise bad
    return "/".join(parts) + "/"


def image_reference(prefix: str, app: str, service: str, tag: str) -> str:
    """``PREFIX<app>-<service>:<tag>``, the name ``image build`` gives, checked as a reference."""
    repository = f"{app}-{service}".lower()
    if not PATH_COMPONENT.fullmatch(repository):
        raise UsageError(
            f"the image name {repository!r} (application-service) is not a valid image "
            "repository name: choose an application name of lowercase letters and digits (-A)"
        )
    if not TAG.fullmatch(tag):
        raise UsageError(
            f"image tag {tag!r} is not valid: ASCII letters, digits, '_', '.', '-' (at most "
            "128, not starting with '.' or '-')"
        )
    reference = f"{prefix}{repository}:{tag}"
    if len(reference) > MAX_REFERENCE:
        raise UsageError(f"image reference {reference!r} is longer than {MAX_REFERENCE}")
    return reference
