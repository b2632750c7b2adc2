"""The router's reload is checked: nginx must start new workers, else the old config returns."""

import pytest

from platform_sim.errors import HostError
from platform_sim.hosts import router as router_module
from platform_sim.hosts.processes import Handle
from platform_sim.hosts.router import Router


class FakeNginx:
    """unshare 10 → keeper 15 → master 20 → workers; SIGHUP replaces the workers unless told
    to refuse."""

    def __init__(self, accepts):
        self.accepts = accepts
        self.tree = {10: [15], 15: [20], 20: [21, 22]}
        self.signals = []

    def children(self, pid):
        return list(self.tree.get(pid, []))

    def command_name(self, pid):
        return "python3" if pid == 15 else "nginx"

    def kill(self, pid, sig):
        self.signals.append((pid, sig))
        if self.accepts:
            self.tree[20] = [31, 32]


@pytest.fixture
def fake(monkeypatch, request):
    nginx = FakeNginx(request.param)
    monkeypatch.setattr(router_module, "children", nginx.children)
    monkeypatch.setattr(router_module, "command_name", nginx.command_name)
    monkeypatch.setattr(router_module.os, "kill", nginx.kill)
    return nginx


def running_router(tmp_path, monkeypatch):
    router = Router(tmp_path / "router", "app", None, nginx_binary="nginx")
    router.folder.mkdir()
    router.config.write_text("old configuration\n")
    (router.folder / "error.log").write_text("[emerg] bind() to 0.0.0.0:80 failed\n")
    monkeypatch.setattr(router, "_test", lambda config, netns: None)
    monkeypatch.setattr(router, "handle", lambda: Handle(10, 1))
    monkeypatch.setattr(router, "_wait_listening", lambda port, handle, address: None)
    return router


@pytest.mark.parametrize("fake", [False], indirect=True)
def test_a_refused_reload_restores_the_old_configuration_and_fails(tmp_path, monkeypatch, fake):
    router = running_router(tmp_path, monkeypatch)
    monkeypatch.setattr(router, "_reload", lambda handle: Router._reload(router, handle, 0.3))
    with pytest.raises(HostError, match="refused the new configuration") as caught:
        router.switch(2, {"www": (8080, [9001])})
    assert "bind() to 0.0.0.0:80 failed" in caught.value.details
    assert router.config.read_text() == "old configuration\n"


@pytest.mark.parametrize("fake", [True], indirect=True)
def test_an_accepted_reload_keeps_the_new_configuration(tmp_path, monkeypatch, fake):
    router = running_router(tmp_path, monkeypatch)
    router.switch(2, {"www": (8080, [9001])})
    assert router.config.read_text() != "old configuration\n"
    assert fake.signals == [(20, router_module.signal.SIGHUP)]
