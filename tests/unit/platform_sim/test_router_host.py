"""The router on the app's network: its own host, the PROXY protocol from the bridge's side,
the forwarder for its ports; one started on loopback (an older push) is replaced."""

from __future__ import annotations

from platform_sim.hosts.network import Network
from platform_sim.hosts.processes import Handle
from platform_sim.hosts.router import Router

from .test_network import FakeIp


def router_on_network(tmp_path, monkeypatch, running: bool):
    (tmp_path / "app").mkdir()
    net = Network(
        tmp_path / "app", run=FakeIp(), etc=tmp_path / "etc", machine_lock=tmp_path / "net.lock"
    )
    router = Router(tmp_path / "app" / "router", "app", None, nginx_binary="nginx", network=net)
    calls = []
    state = {"handle": Handle(10, 1) if running else None}
    monkeypatch.setattr(router, "_test", lambda config, netns: calls.append(("test", netns)))
    monkeypatch.setattr(router, "handle", lambda: state["handle"])
    monkeypatch.setattr(router, "_reload", lambda handle: calls.append(("reload",)))

    def start(netns):
        calls.append(("start", netns))
        state["handle"] = Handle(11, 2)
        return state["handle"]

    def stop(grace, sig):
        calls.append(("stop",))
        state["handle"] = None

    monkeypatch.setattr(router, "_start", start)
    monkeypatch.setattr(Router, "process", property(lambda self: type("P", (), {"stop": stop})))
    monkeypatch.setattr(
        router, "_wait_listening", lambda port, handle, address: calls.append(("wait", address))
    )
    monkeypatch.setattr(
        router, "_forward", lambda ports, target: calls.append(("forward", ports, target))
    )
    return router, net, calls


def test_the_router_listens_on_its_own_host_behind_the_forwarder(tmp_path, monkeypatch):
    router, net, calls = router_on_network(tmp_path, monkeypatch, running=False)
    router.switch(1, {"www": (8080, [5001])}, {5001: "198.18.9.3"})
    host = net.recorded("router")
    address, netns = host["address"], host["netns"]
    assert router.host_address == address
    assert router.address == "127.0.0.1"  # where users reach it
    text = router.config.read_text()
    bridge = address.rsplit(".", 1)[0] + ".1"
    assert f"listen {address}:8080 proxy_protocol;" in text
    assert f"set_real_ip_from {bridge};" in text
    assert calls == [
        ("test", netns),
        ("start", netns),
        ("wait", address),
        ("forward", [8080], address),
    ]


def test_a_router_started_on_loopback_is_replaced_by_one_on_its_host(tmp_path, monkeypatch):
    router, net, calls = router_on_network(tmp_path, monkeypatch, running=True)
    router.switch(1, {"www": (8080, [5001])})
    netns = net.recorded("router")["netns"]
    assert calls[:3] == [("stop",), ("test", netns), ("start", netns)]


def test_a_running_router_on_its_host_is_reloaded(tmp_path, monkeypatch):
    router, net, calls = router_on_network(tmp_path, monkeypatch, running=False)
    router.switch(1, {"www": (8080, [5001])})
    calls.clear()
    router.switch(2, {"www": (8080, [5002])})
    assert [call[0] for call in calls] == ["test", "reload", "wait", "forward"]
