"""On PostgreSQL (which refuses a NUL in text), a NUL in the address is a 400, never a 500."""

import pytest

from tests.unit.test_nul_guard import NUL_URLS

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_in_the_address_is_a_bad_request_on_postgresql(admin_client, url):
    admin_client.raise_request_exception = False
    assert admin_client.get(url).status_code == 400
