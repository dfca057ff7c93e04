"""Fields only some ticket types have, declared and validated per type.

A complaint is about money and a product (what is claimed, for what, and what the customer wants done); a
service request names the contract it is served under; purchase interest names a product and a budget. An
information request has none. Each type's fields are one pydantic model, so the API validates them, the
OpenAPI schema documents them and the console draws its form from :func:`describe`, all from this table.

Pure: no database, no HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from priyom_contracts import ContactType

Short = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
ContractNumber = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True,
                                                  pattern=r"^[0-9A-Za-zА-Яа-яЁё/._\-]+$")]


class _Fields(BaseModel):
    # An unknown field is a mistake (a typo, or a field of another type), never silently dropped.
    model_config = ConfigDict(extra="forbid")


class ComplaintFields(_Fields):
    claimed_amount: Money | None = Field(None, title="Сумма претензии, ₽")
    product: Short | None = Field(None, title="Изделие")
    resolution: Short | None = Field(None, title="Требование клиента (ремонт, замена, возврат)")


class ServiceRequestFields(_Fields):
    contract_number: ContractNumber | None = Field(None, title="Номер договора")


class PurchaseInterestFields(_Fields):
    product: Short | None = Field(None, title="Что интересует")
    budget: Money | None = Field(None, title="Бюджет, ₽")


class InformationRequestFields(_Fields):
    pass


FIELDS: Mapping[ContactType, type[_Fields]] = {
    ContactType.COMPLAINT: ComplaintFields,
    ContactType.SERVICE_REQUEST: ServiceRequestFields,
    ContactType.PURCHASE_INTEREST: PurchaseInterestFields,
    ContactType.INFORMATION_REQUEST: InformationRequestFields,
}


class InvalidFields(ValueError):
    """The values do not fit the ticket type's fields; ``errors`` are pydantic's, for the 422 answer."""

    def __init__(self, errors: list[Any]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


def validate(ticket_type: ContactType, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values as stored (JSON-ready, empty fields left out); :class:`InvalidFields` when they do not fit."""
    try:
        model = FIELDS[ticket_type].model_validate(dict(values))
    except ValidationError as exc:
        raise InvalidFields(exc.errors(include_url=False, include_context=False)) from None
    return model.model_dump(mode="json", exclude_none=True)


def _kind(annotation: Any) -> str:
    text = str(annotation)
    return "number" if "Decimal" in text else "text"


def describe() -> dict[str, list[dict[str, Any]]]:
    """Each type's fields as the console draws them: name, title and kind (text or number)."""
    return {ticket_type.value: [{"name": name, "title": info.title or name, "kind": _kind(info.annotation)}
                                for name, info in model.model_fields.items()]
            for ticket_type, model in FIELDS.items()}


def carry_over(new_type: ContactType, values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a ticket's stored fields when its type becomes ``new_type``: those the new type has (and whose
    value fits it) are kept, the others are dropped; both as ``(kept, dropped)``. Purchase interest and a
    complaint share ``product``, so it survives a correction between them."""
    kept: dict[str, Any] = {}
    dropped: dict[str, Any] = {}
    for name, value in values.items():
        try:
            kept |= validate(new_type, {name: value})
        except InvalidFields:
            dropped[name] = value
    return kept, dropped
