"""Logistics routes beyond the generic API, under ``/api/v1/logistics``: making shipments
and returns from orders, rate shopping, buying and voiding labels, downloading them."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.openapi.spec import Operation
from litestar.params import FromPath, RawBody

from erp_logistics import labels, rating, shipping
from erp_logistics.shipping import NewReturn, NewShipment
from erp_sdk import KernelDependency, PrincipalDependency, body_operation, read_body

SHIPMENTS = "/api/v1/logistics/shipments"
MEDIA_TYPES = {"pdf": "application/pdf", "zpl": "application/x-zpl", "png": "image/png",
               "txt": "text/plain"}


def _with_packages(kernel: Any, principal: Any, shipment: dict[str, Any]) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        packages = ctx.records("logistics.package").list(
            [("shipment_id", str(shipment["id"])), ("limit", "500")])["items"]
        lines = ctx.records("logistics.shipment_line").list(
            [("shipment_id", str(shipment["id"])), ("limit", "500")])["items"]
    return {**shipment, "packages": packages, "lines": lines}


def _created(shipment: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(shipment, status_code=201, headers={
        "Location": f"{SHIPMENTS}/{shipment['id']}", "ETag": f'"{shipment["version"]}"'})


@post("/shipments/from-order", sync_to_thread=True,
      opt={"permission": "logistics.shipment.create"},
      operation_class=body_operation(NewShipment),
      summary="Make a shipment of an order's lines (all that remain, or chosen ones),"
              " packed in packages, with customs data per line")
def create_shipment(body: RawBody, kernel: KernelDependency,
                    principal: PrincipalDependency) -> Response[dict[str, Any]]:
    data = read_body(NewShipment, body)
    with kernel.context(principal) as ctx:
        shipment = shipping.create_shipment(ctx, data)
    return _created(_with_packages(kernel, principal, shipment))


@post("/shipments/{shipment_id:int}/return", sync_to_thread=True,
      opt={"permission": "logistics.shipment.create"},
      operation_class=body_operation(NewReturn),
      summary="Make a return shipment for goods of a shipment; its label is a return label")
def create_return(shipment_id: FromPath[int], body: RawBody, kernel: KernelDependency,
                  principal: PrincipalDependency) -> Response[dict[str, Any]]:
    data = read_body(NewReturn, body)
    with kernel.context(principal) as ctx:
        shipment = shipping.create_return(ctx, shipment_id, data)
    return _created(_with_packages(kernel, principal, shipment))


@get("/shipments/{shipment_id:int}/details", sync_to_thread=True,
     opt={"permission": "logistics.shipment.read"},
     summary="A shipment with its lines and packages")
def shipment_details(shipment_id: FromPath[int], kernel: KernelDependency,
                     principal: PrincipalDependency) -> dict[str, Any]:
    with kernel.context(principal) as ctx:
        shipment = ctx.records("logistics.shipment").get(shipment_id)
    return _with_packages(kernel, principal, shipment)


@post("/shipments/{shipment_id:int}/rates", sync_to_thread=True, status_code=200,
      opt={"permission": "logistics.shipment.rate"},
      summary="Ask every active carrier account for rates in parallel and choose one by"
              " the rules; the decision and every rate are kept on the shipment")
def shop_rates(shipment_id: FromPath[int], kernel: KernelDependency,
               principal: PrincipalDependency) -> dict[str, Any]:
    return rating.shop_rates(kernel, principal, shipment_id)


@post("/shipments/{shipment_id:int}/labels", sync_to_thread=True, status_code=200,
      opt={"permission": "logistics.shipment.buy_labels"},
      summary="Buy the label of every package that has none, exactly once; resolve a"
              " purchase whose outcome is unknown by asking the carrier")
def buy_labels(shipment_id: FromPath[int], kernel: KernelDependency,
               principal: PrincipalDependency) -> dict[str, Any]:
    shipment = labels.buy_labels(kernel, principal, shipment_id)
    return _with_packages(kernel, principal, shipment)


@post("/shipments/{shipment_id:int}/labels/void", sync_to_thread=True, status_code=200,
      opt={"permission": "logistics.shipment.void_labels"},
      summary="Void the labels of a shipment not yet handed over")
def void_labels(shipment_id: FromPath[int], kernel: KernelDependency,
                principal: PrincipalDependency) -> dict[str, Any]:
    shipment = labels.void_labels(kernel, principal, shipment_id)
    return _with_packages(kernel, principal, shipment)


class LabelOperation(Operation):
    """The label route answers the label in the format the carrier made it."""

    def to_schema(self) -> dict[str, Any]:
        document = super().to_schema()
        answer = document.setdefault("responses", {}).setdefault("200", {})
        answer["description"] = "The label, as the carrier made it"
        answer["content"] = {media: {"schema": {"type": "string", "format": "binary"}}
                             for media in sorted(set(MEDIA_TYPES.values())
                                                 | {"application/octet-stream"})}
        return document


@get("/packages/{package_id:int}/label", sync_to_thread=True,
     opt={"permission": "logistics.shipment.read"}, operation_class=LabelOperation,
     summary="Download a package's stored label (PDF, ZPL or text)")
def download_label(package_id: FromPath[int], kernel: KernelDependency,
                   principal: PrincipalDependency) -> Response[bytes]:
    data, label_format, tracking = labels.label_document(kernel, principal, package_id)
    return Response(data, media_type=MEDIA_TYPES.get(label_format, "application/octet-stream"),
                    headers={"Content-Disposition":
                             f'attachment; filename="{tracking or package_id}.{label_format}"'})


ROUTES = [create_shipment, create_return, shipment_details, shop_rates, buy_labels,
          void_labels, download_label]
