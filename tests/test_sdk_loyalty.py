"""The SDK end to end, as an outsider uses it: a ``loyalty`` plugin written in a folder of
its own with ``erp_sdk`` only, scaffolded, pip-installed into a virtualenv, given its
migration by ``erp migrate revision --autogenerate``, and tested with the test kit.

The plugin adds ``points`` to CRM customers (an extension field, read-only, default 0),
credits a point per whole unit of an order's total when the order completes, and offers
``POST /api/v1/loyalty/customers/{customer_id}/redeem``, refused when the customer has
too few points. Its own tests, run in the virtualenv, prove each of those.

The virtualenv sees the development environment's packages (kernel, SDK, first-party
plugins) through a ``.pth`` file, so ``pip install --no-deps`` of the plugin is all that
is installed: seconds, not minutes. Its tests run on PostgreSQL too when
``ERP_TEST_DATABASE_URL`` is set (the variable passes through).
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PLUGIN = '''\
"""Loyalty points on CRM customers: credited when an order completes, spent through a route."""

from decimal import ROUND_DOWN, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from erp_sdk import (
    Base,
    EntityExtension,
    Permission,
    PluginManifest,
    Role,
    hookimpl,
    on_transition,
)

manifest = PluginManifest(
    name="loyalty",
    depends=["crm", "orders"],
    description="Loyalty points on customers",
)


class CustomerPoints(Base):
    """A customer's points; no row until the customer earns some (the API shows 0)."""

    __tablename__ = "loyalty_customer_points"

    customer_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crm_customer.id", ondelete="CASCADE"), primary_key=True)
    points: Mapped[int] = mapped_column(default=0)


def add_points(ctx, customer_id: int, delta: int) -> int:
    """Add ``delta`` (negative to spend) and return the new balance, or -1 when the
    customer has too few points (nothing changed)."""
    row = ctx.session.get(CustomerPoints, customer_id, with_for_update=True)
    if row is None:
        row = CustomerPoints(customer_id=customer_id, points=0)
        ctx.session.add(row)
    if row.points + delta < 0:
        return -1
    row.points += delta
    ctx.session.flush()
    return row.points


@on_transition("orders.order", "complete")
def credit_points(ctx, event):
    total = Decimal(event.record["total"])
    add_points(ctx, event.record["customer_id"], int(total.to_integral_value(ROUND_DOWN)))


@hookimpl
def erp_register_entities():
    return [EntityExtension("crm.customer", CustomerPoints, read_only=["points"],
                            filterable=["points"], sortable=["points"])]


@hookimpl
def erp_register_permissions():
    return [Permission("loyalty.redeem", "Spend a customer's loyalty points"),
            Role("loyalty.cashier", ["loyalty.redeem", "crm.customer.read"],
                 "Spends customers' points")]


@hookimpl
def erp_register_routes():
    from erp_loyalty import api

    return api.ROUTES
'''

API = '''\
"""``POST /api/v1/loyalty/customers/{customer_id}/redeem``: spend points."""

import attrs
from litestar import post
from litestar.params import FromPath, JSONBody

from erp_sdk import ConflictError, KernelDependency, PrincipalDependency

from erp_loyalty.plugin import add_points


@attrs.frozen
class Redemption:
    """How many points to spend."""

    points: int = attrs.field(validator=attrs.validators.gt(0))


@post("/customers/{customer_id:int}/redeem", sync_to_thread=True, status_code=200,
      opt={"permission": "loyalty.redeem"}, summary="Spend a customer's points")
def redeem(customer_id: FromPath[int], data: JSONBody[Redemption], kernel: KernelDependency,
           principal: PrincipalDependency) -> dict[str, int]:
    with kernel.context(principal) as ctx:
        ctx.records("crm.customer").get(customer_id)  # 404 unless the caller may see it
        balance = add_points(ctx, customer_id, -data.points)
        if balance < 0:
            raise ConflictError(f"customer {customer_id} has fewer than {data.points} points")
    return {"customer_id": customer_id, "points": balance}


ROUTES = [redeem]
'''

TESTS = '''\
"""The loyalty plugin through its HTTP API, with the ERP test kit."""

import pytest
from erp_inventory.warehouses import create_warehouse


@pytest.fixture
def customer(erp_client):
    created = erp_client.post("/api/v1/crm/customers", json={"name": "Ada", "kind": "person"})
    assert created.status_code == 201, created.text
    return created.json()


@pytest.fixture
def complete_an_order(erp_kernel, erp_client):
    """``complete_an_order(customer, quantity)``: stock, a channel and an order of
    ``quantity`` mugs at 12.50, placed, shipped and completed through the API."""
    with erp_kernel.transaction() as session:  # warehouses are made by inventory's setup
        warehouse = {"id": create_warehouse(session, "MAIN", "Main").id}

    def post(path, body=None):
        response = erp_client.post(f"/api/v1{path}", json=body)
        assert response.status_code in (200, 201), f"{path}: {response.text}"
        return response.json()

    def complete(customer, quantity):
        return complete_order(post, warehouse, customer, quantity)

    return complete


def complete_order(post, warehouse, customer, quantity):
    mug = post("/inventory/products", {"sku": "MUG", "name": "Mug", "list_price": "12.50"})
    post("/inventory/stock/receive", {"warehouse_id": warehouse["id"], "product_id": mug["id"],
                                      "quantity": "10", "unit_cost": "1"})
    channel = post("/orders/channels", {"code": "web", "name": "Web", "kind": "own_site",
                                        "warehouse_id": warehouse["id"], "settings": {},
                                        "secrets": {}})
    for rule in ("first_order", "address_mismatch"):
        post("/orders/review-policies", {"rule": rule, "enabled": False})
    address = {"line1": "1 Main St", "city": "Paris", "country": "FR", "postal_code": "75001"}
    order = post("/orders/place", {
        "channel_id": channel["id"], "customer_id": customer["id"], "confirm": True,
        "shipping_address": address,
        "lines": [{"product_id": mug["id"], "quantity": str(quantity)}]})
    post(f"/orders/orders/{order['id']}/ship")
    return post(f"/orders/orders/{order['id']}/complete")


def test_a_customer_without_points_shows_zero(erp_client, customer):
    assert customer["points"] == 0
    assert erp_client.get(f"/api/v1/crm/customers/{customer['id']}").json()["points"] == 0


def test_points_are_read_only_through_the_api(erp_client, customer):
    refused = erp_client.patch(f"/api/v1/crm/customers/{customer['id']}", json={"points": 99})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"points": "is read-only"}


def test_openapi_says_points_default_to_zero_and_are_read_only(erp_client):
    schema = erp_client.get("/schema/openapi.json").json()["components"]["schemas"]
    assert schema["CrmCustomer"]["properties"]["points"]["default"] == 0
    assert schema["CrmCustomer"]["properties"]["points"]["readOnly"] is True


def test_completing_an_order_credits_a_point_per_whole_unit_of_its_total(
        erp_client, customer, complete_an_order):
    order = complete_an_order(customer, 3)
    assert order["state"] == "completed"
    fetched = erp_client.get(f"/api/v1/crm/customers/{customer['id']}").json()
    assert fetched["points"] == int(float(order["total"]))


def test_redeeming_spends_points_and_refuses_more_than_the_balance(
        erp_client, customer, complete_an_order):
    complete_an_order(customer, 2)
    balance = erp_client.get(f"/api/v1/crm/customers/{customer['id']}").json()["points"]
    redeem = f"/api/v1/loyalty/customers/{customer['id']}/redeem"

    refused = erp_client.post(redeem, json={"points": balance + 1})
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")

    spent = erp_client.post(redeem, json={"points": 5})
    assert spent.status_code == 200, spent.text
    assert spent.json() == {"customer_id": customer["id"], "points": balance - 5}


def test_a_redemption_needs_a_positive_number_of_points(erp_client, customer):
    redeem = f"/api/v1/loyalty/customers/{customer['id']}/redeem"
    assert erp_client.post(redeem, json={"points": 0}).status_code == 422
    assert erp_client.post(redeem, json={"points": "many"}).status_code == 422


def test_redeeming_needs_the_permission(erp_client_for, customer):
    clerk = erp_client_for("crm.agent")
    refused = clerk.post(f"/api/v1/loyalty/customers/{customer['id']}/redeem",
                         json={"points": 1})
    assert refused.status_code == 403
'''


def run(*command: str | Path, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, (f"{' '.join(map(str, command))} failed:\n"
                                    f"{result.stdout[-6000:]}{result.stderr[-6000:]}")
    return result.stdout


def test_an_outsider_writes_installs_migrates_and_tests_a_loyalty_plugin(tmp_path: Path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "ERP_DATABASE_URL")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    scaffold = Path(sys.executable).with_name("erp-sdk")
    run(scaffold, "new", "loyalty", "--bare", "--depends", "crm,orders", cwd=tmp_path, env=env)
    project = tmp_path / "loyalty"
    (project / "erp_loyalty" / "plugin.py").write_text(PLUGIN)
    (project / "erp_loyalty" / "api.py").write_text(API)
    (project / "tests" / "test_loyalty.py").write_text(TESTS)

    run(sys.executable, "-m", "venv", "venv", cwd=tmp_path, env=env)
    python = tmp_path / "venv" / "bin" / "python"
    [venv_site] = (tmp_path / "venv" / "lib").glob("python*/site-packages")
    # the development environment's packages, as if installed in the virtualenv
    (venv_site / "erp_development.pth").write_text(
        "".join(f"import site; site.addsitedir({path!r})\n" for path in site.getsitepackages()))
    run(python, "-m", "pip", "install", "--quiet", "--no-deps",
        "--editable", project, cwd=tmp_path, env=env)

    wrote = run(python, "-m", "erp_core", "migrate", "revision", "--plugin", "loyalty",
                "--autogenerate", "-m", "points on customers", cwd=project, env=env)
    [migration] = (project / "erp_loyalty" / "migrations" / "versions").glob("*.py")
    assert f"wrote {migration}" in wrote
    assert "loyalty_customer_points" in migration.read_text()
    run(python, "-m", "ruff", "check", "--no-cache", ".", cwd=project, env=env)

    installed = run(python, "-c", "import erp_loyalty, sys; print(erp_loyalty.__file__)",
                    cwd=tmp_path, env=env)
    assert Path(installed.strip()).is_relative_to(project)
    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project, env=env)
    assert "9 passed" in tests, tests
