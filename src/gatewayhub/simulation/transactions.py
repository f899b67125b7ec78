"""A transaction history as columns: numpy arrays plus the vocabularies they index.

Money stays integer: `amount` is int64 minor units of each row's currency. Categorical fields
(currency, method, brand, card type, countries) are small integer codes into lists, so the
engine can group and gather without touching strings. Rows are kept in time order: the
order the simulator replays them in, and the order month-to-date volume grows in.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from gatewayhub.models import PaymentMethodType

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I16 = npt.NDArray[np.int16]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]
U64 = npt.NDArray[np.uint64]
Bool = npt.NDArray[np.bool_]

OUTCOME_UNKNOWN, OUTCOME_DECLINED, OUTCOME_APPROVED = -1, 0, 1
NO_FEE = -1  # observed fee column: no value on this row


@dataclass(frozen=True)
class Observed:
    """What actually happened, when the history says so (optional columns)."""

    provider: I16  # code into `providers`, -1 when not given
    providers: list[str]
    outcome: I8  # OUTCOME_APPROVED / OUTCOME_DECLINED / OUTCOME_UNKNOWN
    fee: I64  # minor units of the row's currency, NO_FEE when not given


@dataclass(frozen=True)
class Transactions:
    """Payments to replay, one array element per payment, sorted by `timestamp`."""

    ids: list[str]
    timestamp: I64  # seconds since 1970-01-01 UTC
    amount: I64  # minor units of `currencies[currency]`
    currency: I16
    method: I8
    brand: I8  # code into `brands`; brands[0] is None
    card_type: I8  # code into `card_types`; card_types[0] is None
    issuer: I16  # code into `countries`; countries[0] is None
    merchant: I16  # code into `countries`
    currencies: list[str]
    methods: list[PaymentMethodType]
    brands: list[str | None]
    card_types: list[str | None]
    countries: list[str | None]
    observed: Observed | None = None
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: npt.NDArray[np.intp]) -> Transactions:
        """The rows at `index` (in that order), same vocabularies."""
        observed = None
        if self.observed is not None:
            o = self.observed
            observed = Observed(o.provider[index], o.providers, o.outcome[index], o.fee[index])
        return Transactions(
            ids=[self.ids[i] for i in index.tolist()],
            timestamp=self.timestamp[index],
            amount=self.amount[index],
            currency=self.currency[index],
            method=self.method[index],
            brand=self.brand[index],
            card_type=self.card_type[index],
            issuer=self.issuer[index],
            merchant=self.merchant[index],
            currencies=self.currencies,
            methods=self.methods,
            brands=self.brands,
            card_types=self.card_types,
            countries=self.countries,
            observed=observed,
            source=self.source,
            notes=self.notes,
        )

    def in_time_order(self) -> Transactions:
        """The same rows sorted by timestamp (stable: equal times keep their input order)."""
        order = np.argsort(self.timestamp, kind="stable")
        if np.array_equal(order, np.arange(len(order))):
            return self
        return self.take(order)


T = TypeVar("T", bound=Hashable)


class Vocabulary(Generic[T]):
    """Assigns small integer codes to values in first-seen order."""

    def __init__(self, initial: Sequence[T] = ()) -> None:
        self.values: list[T] = []
        self.codes: dict[T, int] = {}
        for value in initial:
            self.code(value)

    def code(self, value: T) -> int:
        """The code of `value`, adding it when new."""
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found
