"""A NUL in the address is refused with 400 before any view reaches the database."""

import pytest

pytestmark = pytest.mark.django_db

NUL_URLS = [
    "/admin/monitor/taskstate/?name=%00",
    "/admin/monitor/taskstate/?worker=%00",
    "/admin/monitor/taskstate/?routing_key_prefix=%00",
    "/admin/monitor/taskstate/?q=a%00b",
    "/admin/monitor/taskstate/?state=%00",
    "/admin/monitor/taskstate/?%00=x",
    "/admin/monitor/taskstate/%00/change/",
    "/admin/monitor/workerstate/?q=%00",
    "/monitor/?window=%00",
    "/?x=%00",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_in_the_address_is_a_bad_request(admin_client, url):
    response = admin_client.get(url)
    assert response.status_code == 400
    assert response.content.decode().startswith("Bad request: the address holds a NUL")


def test_an_address_without_nul_passes(admin_client):
    assert admin_client.get("/admin/monitor/taskstate/?q=soup&state=SUCCESS").status_code == 200
