"""Which nginx of each target believes X-Forwarded-Proto: only the one behind a proxy, and only
from that proxy; the outermost says its own scheme (the real nginx: the integration tests)."""

import re

import pytest

from platform_sim.containers import entry
from platform_sim.containers.kube_play import translate
from platform_sim.render import nginx
from tests.unit.containers.test_container_entry import DESCRIBED


def believed(conf: str) -> dict[str, str]:
    """The geo entries of an instance's nginx.conf: network → 1 (believed) or 0."""
    block = re.search(r"geo \$from_our_proxy \{(.*?)\}", conf, re.S).group(1)
    return dict(re.findall(r"^\s*(\S+) ([01]);$", block, re.M))


def instance_conf(**options) -> str:
    return nginx.render_instance(
        app="soup", instance="www.0", generation=1, home="/h", port=8080, **options
    )


def test_the_platforms_router_says_its_own_scheme():
    conf = nginx.render_router(
        app="soup", generation=1, directory="/r", services={"www": (80, [8080])}
    )
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "$http_x_forwarded_proto" not in conf


def test_a_platform_instance_believes_the_apps_hosts_but_not_the_machine():
    conf = instance_conf(address="198.18.7.5", proxies=nginx.platform_proxy("198.18.7.5"))
    assert believed(conf) == {"default": "0", "198.18.7.0/24": "1", "198.18.7.1/32": "0"}
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in conf
    assert believed(instance_conf(proxies=nginx.platform_proxy("127.0.0.1"))) == {
        "default": "0",
        "127.0.0.1/32": "1",
    }


@pytest.mark.parametrize(
    ("trusted_proxies", "expected"),
    [
        ("1", {"default": "0"}),  # Compose: the container's nginx is the outermost proxy
        ("", {"default": "0"}),
        ("two", {"default": "0"}),
        ("2", {"default": "0", "0.0.0.0/0": "1", "::/0": "1"}),  # Kubernetes: the Ingress
    ],
)
def test_a_containers_nginx_believes_a_proxy_only_behind_one(tmp_path, trusted_proxies, expected):
    home = tmp_path / "home"
    home.mkdir()
    variables = {"TRUSTED_PROXIES": trusted_proxies}
    entry.lay_out(home, DESCRIBED, variables, log_dirs=(str(tmp_path / "log"),))
    assert believed((home / "platform" / "nginx.conf").read_text()) == expected


def test_kube_plays_router_acts_as_an_ingress():
    conf = translate.router_conf("www", [("www-pod-0", 8080)])
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
