"""The simulation as a bounded request/response, for `POST /v1/simulations`.

The HTTP layer validates the body into `SimulationRequest` (pydantic: unknown fields
refused, sizes capped so one request cannot pin a worker), calls `run_simulation_request`,
and returns its dict as JSON. Row problems come back as an `InvalidRequest` naming the row
and the field. Larger runs belong to the CLI or the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gatewayhub.errors import ConfigError, InvalidRequest
from gatewayhub.simulation.engine import run
from gatewayhub.simulation.generator import GeneratorProfile, generate
from gatewayhub.simulation.history import HistoryError, parse_rows
from gatewayhub.simulation.scenario import parse_scenario

MAX_ROWS = 10_000
MAX_GENERATED = 100_000


class PaymentRow(BaseModel):
    """One payment of the history, with the same fields as a CSV row."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, max_length=255)
    timestamp: str
    amount: str | None = Field(default=None, max_length=32)
    amount_minor: int | None = None
    currency: str = Field(max_length=3)
    method: str | None = None
    card_brand: str | None = None
    card_type: str | None = None
    issuer_country: str | None = Field(default=None, max_length=2)
    merchant_country: str | None = Field(default=None, max_length=2)
    provider: str | None = Field(default=None, max_length=64)
    outcome: str | None = None
    fee: str | None = Field(default=None, max_length=32)


class SimulationRequest(BaseModel):
    """A scenario (the TOML structure as JSON) and either payments or a generator count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: dict[str, Any]
    payments: list[PaymentRow] | None = Field(default=None, min_length=1, max_length=MAX_ROWS)
    generate: int | None = Field(default=None, ge=1, le=MAX_GENERATED)
    profile: GeneratorProfile | None = None
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    on_error: Literal["stop", "skip"] = "stop"

    @model_validator(mode="after")
    def _one_source(self) -> SimulationRequest:
        if (self.payments is None) == (self.generate is None):
            raise ValueError("give either payments or generate")
        return self


def run_simulation_request(request: SimulationRequest | Mapping[str, Any]) -> dict[str, Any]:
    """Run a bounded simulation and return the result as a JSON-able dict.

    Raises `pydantic.ValidationError` for a malformed request, `InvalidRequest` for bad
    payment rows (field "payments[<index>].<field>") or an invalid scenario.
    """
    if not isinstance(request, SimulationRequest):
        request = SimulationRequest.model_validate(request)
    try:
        scenario = parse_scenario(request.scenario, "scenario")
    except ConfigError as exc:
        raise InvalidRequest(str(exc), field="scenario") from None
    if request.payments is not None:
        rows = ((i, row.model_dump(exclude_none=True)) for i, row in enumerate(request.payments))
        try:
            txns = parse_rows(rows, on_error=request.on_error, source="payments").transactions
        except HistoryError as exc:
            details = [
                {"field": f"payments[{e.line}].{e.field}", "message": e.reason} for e in exc.errors
            ]
            field = details[0]["field"] if details else "payments"
            reason = details[0]["message"] if details else str(exc)
            raise InvalidRequest(reason, field=field, details=details or None) from None
    else:
        assert request.generate is not None
        txns = generate(request.generate, request.profile, request.seed)
    try:
        return run(scenario.plan(), txns, request.seed).to_dict()
    except ConfigError as exc:
        raise InvalidRequest(str(exc), field="scenario") from None
