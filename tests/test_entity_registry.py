"""The entity registry: entities registered at boot under ``<plugin>.<entity>``, extension
fields merged in, and every mistake in a declaration refused at boot naming the plugin."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest
import sqlalchemy as sa
from api_client import *  # noqa: F403  (fixtures of the shop app)

from erp_core.entities.declaration import Entity
from erp_core.entities.registry import ID_PARAMETER, EntityRegistry, plural_collection
from erp_core.errors import PluginError
from erp_core.kernel import Kernel


def test_entities_are_registered_under_plugin_and_entity_name(shop_kernel):
    shop_entities = {entity.name for entity in shop_kernel.entities if entity.plugin == "shop"}
    assert shop_entities == {"shop.category", "shop.product"}
    product = shop_kernel.entities.get("shop.product")
    assert (product.plugin, product.table.name) == ("shop", "shop_product")


@pytest.mark.parametrize(("entity", "collection"), [
    ("product", "products"), ("category", "categories"), ("stock_move", "stock-moves"),
    ("box", "boxes"), ("day", "days"),
])
def test_an_entity_is_served_under_its_plural_kebab_case_collection(entity, collection):
    assert plural_collection(entity) == collection


def test_the_shop_entities_are_served_at_their_collections(shop_kernel):
    collections = {entity.name: entity.collection for entity in shop_kernel.entities
                   if entity.plugin == "shop"}
    assert collections == {"shop.category": "categories", "shop.product": "products"}


def test_declared_filters_and_sorts_are_registered(shop_kernel):
    product = shop_kernel.entities.get("shop.product")
    assert {"sku", "price", "barcode", "category_id"} <= product.filterable.keys()
    assert {"name", "price", "barcode"} <= product.sortable.keys()
    assert "sku" not in product.sortable


def test_server_set_fields_are_read_but_never_written(shop_kernel):
    product = shop_kernel.entities.get("shop.product")
    assert {"id", "version", "created_at", "updated_at"} <= product.fields.keys()
    assert not {"id", "version", "created_at", "updated_at"} & product.writable.keys()


def test_extension_fields_are_merged_into_the_extended_entity_owned_by_their_plugin(shop_kernel):
    product = shop_kernel.entities.get("shop.product")
    loyalty = product.fields["loyalty_points"]
    assert loyalty.owner == "shopx"
    assert loyalty.column.table.name == "shopx_product_loyalty"
    assert {"loyalty_points", "gift_note"} <= product.writable.keys()
    assert {"loyalty_points", "gift_note"} <= product.filterable.keys()
    assert "loyalty_points" in product.sortable


def test_extension_fields_are_part_of_the_read_and_write_schemas(shop_kernel):
    product = shop_kernel.entities.get("shop.product")
    assert {"loyalty_points", "gift_note"} <= {f.name for f in attrs.fields(product.read_schema)}
    assert {"loyalty_points", "gift_note"} <= {f.name for f in attrs.fields(product.write_schema)}


def test_without_the_extending_plugin_the_entity_has_only_its_own_fields(boot_shop):
    product = boot_shop(with_loyalty=False).entities.get("shop.product")
    assert not {"loyalty_points", "gift_note"} & product.fields.keys()
    assert {f.owner for f in product.fields.values()} == {"shop"}


@pytest.fixture
def boot_with(use_plugins: Callable[..., None], kernel: Kernel,
              make_kernel: Callable[..., Kernel]) -> Callable[..., Kernel]:
    """Enable a test plugin from its folder (shop is installed too) and boot a kernel."""

    def boot(folder: str) -> Kernel:
        use_plugins("shop", folder)
        kernel.enable([folder])
        return make_kernel().boot()

    return boot


@pytest.mark.parametrize(("plugin", "fragments"), [
    ("unprefixed", ["table 'gadget'", "must start with 'unprefixed_'"]),
    ("twice", ["'twice.gadget' is registered twice"]),
    ("badfilter", ["filterable field 'colour'", "'badfilter.gadget'", "does not exist"]),
    ("badsort", ["sortable field 'weight'", "'badsort.gadget'", "does not exist"]),
    ("stray", ["extends entity 'shop.gadget'", "no enabled plugin registers"]),
], ids=["table-without-prefix", "duplicate-entity", "filter-on-missing-field",
        "sort-on-missing-field", "extension-of-unknown-entity"])
def test_a_faulty_entity_declaration_stops_the_boot_with_an_error_naming_the_plugin(
        boot_with, plugin, fragments):
    with pytest.raises(PluginError) as raised:
        boot_with(plugin)
    assert raised.value.plugin == plugin
    assert f"plugin {plugin!r}" in raised.value.message
    for fragment in fragments:
        assert fragment in raised.value.message


def test_a_column_named_like_the_kernels_id_parameter_is_refused():
    metadata = sa.MetaData()
    table = sa.Table("clash_gadget", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("version", sa.Integer), sa.Column(ID_PARAMETER, sa.Integer))

    class Gadget:
        __table__ = table

    with pytest.raises(PluginError) as raised:
        EntityRegistry.build([("clash", [Entity("gadget", Gadget)])])
    assert raised.value.plugin == "clash"
    assert f"may not be called {ID_PARAMETER!r}" in raised.value.message


@pytest.mark.parametrize("column", ["sort", "limit", "cursor", "with_total", "price__gte"])
def test_a_filterable_field_named_like_a_list_parameter_or_an_operator_is_refused(column):
    metadata = sa.MetaData()
    table = sa.Table("clash_gadget", metadata, sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("version", sa.Integer), sa.Column(column, sa.Integer))

    class Gadget:
        __table__ = table

    EntityRegistry.build([("clash", [Entity("gadget", Gadget)])])  # fine while not a filter
    with pytest.raises(PluginError) as raised:
        EntityRegistry.build([("clash", [Entity("gadget", Gadget, filterable=[column])])])
    assert raised.value.plugin == "clash"
    assert f"filterable field {column!r} of 'clash.gadget'" in raised.value.message
    assert "rename the column or leave it out of `filterable`" in raised.value.message
