"""Extension fields take the options native fields take: ``read_only``, ``write_only``,
``hidden``, and a column default shown for a record without a side-table row yet.

The test plugin ``shoprate`` adds to ``shop.product``: ``stars`` (read-only, default 3),
``reviews`` (default 0), ``supplier_code`` (write-only) and ``internal_note`` (hidden).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from api_client import *  # noqa: F403  (fixtures of the shop app)
from api_client import OPENAPI, PRODUCTS
from litestar.testing import TestClient

from erp_core.entities.declaration import Entity, EntityExtension
from erp_core.entities.registry import EntityRegistry
from erp_core.errors import PluginError
from erp_core.kernel import Kernel
from erp_core.migrations.check import assert_migrations_match_models


@pytest.fixture
def rating_kernel(use_plugins: Callable[..., None], make_kernel: Callable[..., Kernel]) -> Kernel:
    use_plugins("shop", "shoprate")
    kernel = make_kernel()
    kernel.initialise()
    kernel.enable(["shoprate"])
    return kernel.boot()


@pytest.fixture
def client(rating_kernel: Kernel, api_client: Callable[..., TestClient]) -> TestClient:
    return api_client(rating_kernel)


def create(client: TestClient, sku: str, **fields: object) -> dict:
    response = client.post(PRODUCTS, json={"sku": sku, "name": sku, "price": "1", **fields})
    assert response.status_code == 201, response.text
    return response.json()


def side_rows(kernel: Kernel) -> list[tuple]:
    with kernel.engine.connect() as connection:
        return list(connection.execute(sa.text(
            "SELECT product_id, stars, reviews, supplier_code FROM shoprate_product_rating")))


def test_a_record_without_a_side_row_shows_the_column_defaults(client, rating_kernel):
    created = create(client, "A")
    assert (created["stars"], created["reviews"]) == (3, 0)
    assert side_rows(rating_kernel) == []
    fetched = client.get(f"{PRODUCTS}/{created['id']}").json()
    assert (fetched["stars"], fetched["reviews"]) == (3, 0)
    [listed] = client.get(PRODUCTS).json()["items"]
    assert (listed["stars"], listed["reviews"]) == (3, 0)


def test_defaults_filter_and_sort_like_stored_values(client, rating_kernel):
    create(client, "NONE")
    reviewed = create(client, "MANY", reviews=9)
    with rating_kernel.engine.begin() as connection:
        connection.execute(sa.text("UPDATE shoprate_product_rating SET stars = 5"
                                   " WHERE product_id = :id"), {"id": reviewed["id"]})

    def skus(**params: object) -> list[str]:
        response = client.get(PRODUCTS, params=params)
        assert response.status_code == 200, response.text
        return [item["sku"] for item in response.json()["items"]]

    assert skus(reviews=0) == ["NONE"]
    assert skus(stars=3) == ["NONE"]
    assert skus(stars__gte=4) == ["MANY"]
    assert skus(sort="-stars") == ["MANY", "NONE"]
    assert skus(sort="reviews") == ["NONE", "MANY"]


def test_a_read_only_extension_field_is_refused_from_clients(client):
    product = create(client, "A")
    refused = client.patch(f"{PRODUCTS}/{product['id']}", json={"stars": 5})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"stars": "is read-only"}
    refused = client.post(PRODUCTS, json={"sku": "B", "name": "B", "price": "1", "stars": 5})
    assert refused.status_code == 422
    assert client.get(f"{PRODUCTS}/{product['id']}").json()["stars"] == 3


def test_a_write_only_extension_field_is_stored_and_never_returned(client, rating_kernel):
    product = create(client, "A", supplier_code="S-1")
    assert "supplier_code" not in product
    assert "supplier_code" not in client.get(f"{PRODUCTS}/{product['id']}").json()
    assert side_rows(rating_kernel) == [(product["id"], 3, 0, "S-1")]


def test_a_hidden_extension_field_is_neither_shown_nor_accepted(client):
    product = create(client, "A")
    assert "internal_note" not in product
    refused = client.patch(f"{PRODUCTS}/{product['id']}", json={"internal_note": "x"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"internal_note": "unknown field"}


def test_openapi_shows_defaults_and_read_only_extension_fields(client):
    schemas = client.get(OPENAPI).json()["components"]["schemas"]
    read, create_, update = (schemas["ShopProduct"], schemas["ShopProductCreate"],
                             schemas["ShopProductUpdate"])
    assert read["properties"]["stars"]["default"] == 3
    assert read["properties"]["stars"]["readOnly"] is True
    assert read["properties"]["reviews"]["default"] == 0
    assert "readOnly" not in read["properties"]["reviews"]
    assert "stars" not in create_["properties"] and "stars" not in update["properties"]
    assert "supplier_code" not in read["properties"]
    assert "supplier_code" in create_["properties"]
    assert "internal_note" not in read["properties"] | create_["properties"]


def test_the_fixture_plugins_migration_matches_its_models(use_plugins, make_kernel):
    use_plugins("shop", "shoprate")
    assert_migrations_match_models(make_kernel(), "shoprate")


@pytest.mark.parametrize("option", ["read_only", "write_only", "hidden"])
def test_an_option_naming_no_column_of_the_side_table_is_refused_at_boot(rating_kernel, option):
    product = rating_kernel.entities.get("shop.product").declaration
    rating = rating_kernel.entities.get("shop.product").extensions[0]
    extension = EntityExtension("shop.product", type("M", (), {"__table__": rating.table}),
                                **{option: ["nonsense"]})
    with pytest.raises(PluginError, match=f"{option} field 'nonsense'"):
        EntityRegistry.build([("shop", [product]), ("shoprate", [extension])])


def test_a_hidden_extension_field_cannot_be_filterable(rating_kernel):
    product = rating_kernel.entities.get("shop.product").declaration
    rating = rating_kernel.entities.get("shop.product").extensions[0]
    extension = EntityExtension("shop.product", type("M", (), {"__table__": rating.table}),
                                hidden=["internal_note"], filterable=["internal_note"])
    with pytest.raises(PluginError, match="filterable field 'internal_note'"):
        EntityRegistry.build([("shop", [product]), ("shoprate", [extension])])
    assert isinstance(product, Entity)
