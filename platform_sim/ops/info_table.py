"""``info`` for people: a table of the instances, then URLs, credentials, variables, revisions."""

from __future__ import annotations

from collections.abc import Sequence

from platform_sim.address import LOOPBACK, host_port

HEADERS = ("INSTANCE", "TYPE", "STATUS", "ADDRESS", "PROGRAMS / LOGIN")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell (the last one is not padded)."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]
    return [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]


def instance_row(service: str, kind: str, instance: dict) -> tuple[str, ...]:
    """One instance: label, type, status, where it answers, its programs (or login)."""
    if "url" in instance and kind == "python":
        address = instance["url"]
    elif "port" in instance:
        address = host_port(instance["port"], instance.get("host", LOOPBACK))
    else:
        address = "-"
    programs = instance.get("programs") or {}
    if programs:
        detail = ", ".join(f"{name} {state}" for name, state in programs.items())
    else:
        detail = f"login {instance['login']}" if instance.get("login") else "-"
    return (f"{service}.{instance['id']}", kind, instance["status"], address, detail)


def as_text(info: dict) -> str:
    """``info`` for people."""
    lines = [
        f"application {info['app']}: revision {info['revision']}, deploy {info['deploy']}",
        f"url: {info['url'] or '(no web service deployed)'}",
        f"state: {info['state']}",
        "",
    ]
    rows = [
        instance_row(name, service["type"], instance)
        for name, service in info["services"].items()
        for instance in service["instances"]
    ]
    rows += [
        instance_row(f"add-on {name}", "cloudamqp", {**addon, "id": 0})
        for name, addon in info["addons"].items()
    ]
    lines += table(HEADERS, rows) if rows else ["(no services deployed)"]
    lines += _details(info)
    return "\n".join(lines)


def _details(info: dict) -> list[str]:
    lines = []
    web = [(name, s["url"]) for name, s in info["services"].items() if "url" in s]
    credentials = [
        (name, instance["url"])
        for name, service in info["services"].items()
        for instance in service["instances"]
        if "url" in instance and service["type"] != "python"
    ]
    credentials += [
        (f"add-on {name}", a["url"]) for name, a in info["addons"].items() if "url" in a
    ]
    admin = [
        instance["admin_password_file"]
        for service in info["services"].values()
        for instance in service["instances"]
        if "admin_password_file" in instance
    ]
    if web:
        lines += ["", "web:"] + [f"  {name}  {url}" for name, url in web]
    if credentials:
        lines += ["", "credentials:"] + [f"  {name}  {url}" for name, url in credentials]
    if admin:
        lines += ["", f"admin: user admin, password in {admin[0]}"]
    lines.append("")
    lines.append("variables: " + (", ".join(sorted(info["variables"])) or "none"))
    scale = info.get("scale") or {}
    if scale:
        lines.append("scale: " + ", ".join(f"{name}={count}" for name, count in scale.items()))
    numbers = [
        str(r["revision"]) + ("*" if r["current"] else "") for r in info.get("revisions", [])
    ]
    lines.append("revisions: " + (", ".join(numbers) or "none") + "   (* serving)")
    return lines
