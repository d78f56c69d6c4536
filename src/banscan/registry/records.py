"""The registry's objects as a loaded registry holds them: plain frozen records.

:mod:`banscan.registry.schema` validates the registry's files with pydantic.  Once they are valid,
:func:`freeze` copies every model into a record of the same name defined here: the same fields in
the same order, the same methods (each model and its record share them through the mixins below),
read-only, and ``model_dump`` as pydantic gives it for the modes banscan uses.  This module imports
nothing but the standard library, so a warm start unpickles the compiled registry (records only)
without importing pydantic or building its models, about a third of a one-line scan's start-up.

The enums live here for the same reason; :mod:`banscan.registry.schema` re-exports them.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (the models, for the mixins' types only)
    from banscan.registry.schema import Period as PeriodModel
    from banscan.registry.schema import ProductOperator as ProductOperatorModel


class Category(str, Enum):
    SECURITY_SOFTWARE = "security-software"
    TELECOM_EQUIPMENT = "telecom-equipment"
    TELECOM_SERVICE = "telecom-service"
    VIDEO_SURVEILLANCE = "video-surveillance"
    RADIO = "radio"
    MOBILE_DEVICE = "mobile-device"
    COMPUTER = "computer"  # PCs, laptops, servers, storage
    APP = "app"  # end-user application (desktop or mobile)
    AI_SERVICE = "ai-service"
    SDK = "sdk"  # library / SDK embedded in other software
    CLOUD_SERVICE = "cloud-service"
    DRONE = "drone"
    POWER_EQUIPMENT = "power-equipment"  # UPS, inverters
    COMPONENT = "component"  # chips, modules
    SOFTWARE = "software"  # other software
    OTHER = "other"


class LegalForce(str, Enum):
    BINDING_LAW = "binding-law"
    BINDING_REGULATION = "binding-regulation"
    BINDING_DIRECTIVE = "binding-directive"
    PROCUREMENT_RULE = "procurement-rule"
    BINDING_LICENCE_CONDITION = "binding-licence-condition"
    GOVERNMENT_DECISION = "government-decision"
    ADVISORY = "advisory"
    NON_BINDING_RESOLUTION = "non-binding-resolution"
    EXPORT_CONTROL = "export-control"
    BILL = "bill"
    REGULATOR_COORDINATED_SUSPENSION = "regulator-coordinated-suspension"  # a provider's own pause agreed with a regulator
    NEVER_IN_FORCE = "never-in-force"  # enacted but blocked (e.g. enjoined by a court) before it took effect
    CONTEXT = "context"  # recorded for context; it binds no user (e.g. an order addressed to the vendor itself)

    @property
    def binding(self) -> bool:
        return self not in (LegalForce.ADVISORY, LegalForce.NON_BINDING_RESOLUTION,
                            LegalForce.EXPORT_CONTROL, LegalForce.BILL,
                            LegalForce.REGULATOR_COORDINATED_SUSPENSION, LegalForce.NEVER_IN_FORCE, LegalForce.CONTEXT)

    @property
    def binds_anyone(self) -> bool:
        """False for instruments that give no finding at all, not even an advisory one."""
        return self not in (LegalForce.NEVER_IN_FORCE, LegalForce.CONTEXT)

    @property
    def why_nothing_binds(self) -> str | None:
        """For instruments that bind no one: why, in words."""
        if self is LegalForce.NEVER_IN_FORCE:
            return "never in force: it was blocked before it took effect, so it binds no one"
        if self is LegalForce.CONTEXT:
            return "recorded as context: it binds no user of the products"
        return None


class FactConfidence(str, Enum):
    CONFIRMED = "confirmed"
    CORROBORATED = "corroborated"


# --------------------------------------------------------------------------- behaviour
# Each mixin holds the methods of one model; the pydantic model and its record both inherit it.


def _within(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
    """``day`` falls in [``start``, ``end``): from its first day, before its end (None: open)."""
    return (start is None or start <= day) and (end is None or day < end)


class _Dated:
    __slots__ = ()
    if TYPE_CHECKING:
        from_: dt.date | None
        to: dt.date | None


class PeriodMethods(_Dated):
    __slots__ = ()

    def contains(self, day: dt.date) -> bool:
        return _within(self.from_, self.to, day)


class EntityMethods(_Dated):
    __slots__ = ()
    if TYPE_CHECKING:
        periods: list[PeriodModel]

    def spans(self) -> list[tuple[dt.date | None, dt.date | None]]:
        """The periods of control as (from, to) pairs, oldest first; [(None, None)] when undated."""
        if self.periods:
            return sorted(((p.from_, p.to) for p in self.periods), key=lambda s: s[0] or dt.date.min)
        return [(self.from_, self.to)]

    def member_on(self, day: dt.date) -> bool:
        """True when the family controlled the entity on ``day``."""
        return any(_within(f, t, day) for f, t in self.spans())

    def left_on(self, day: dt.date) -> dt.date | None:
        """The day control ended most recently before or on ``day`` (None if it never ended by then)."""
        ends = [t for _, t in self.spans() if t is not None and t <= day]
        return max(ends) if ends else None


class ProductOperatorMethods(_Dated):
    __slots__ = ()
    if TYPE_CHECKING:
        jurisdictions: list[str]

    def applies(self, jurisdiction: str, on: dt.date) -> bool:
        """Whether this entry describes the product in ``jurisdiction`` on ``on``."""
        if not _within(self.from_, self.to, on):
            return False
        if not self.jurisdictions:
            return True
        return any(jurisdiction == j or jurisdiction.startswith(j + "-") for j in self.jurisdictions)


class ProductMethods:
    __slots__ = ()
    if TYPE_CHECKING:
        operators: list[ProductOperatorModel]

    def operator(self, jurisdiction: str, on: dt.date) -> ProductOperatorModel | None:
        """The operator entry in force for ``jurisdiction`` on ``on`` (the most specific one), if any."""
        found = [o for o in self.operators if o.applies(jurisdiction, on)]
        if not found:
            return None
        return max(found, key=lambda o: (max((len(j) for j in o.jurisdictions), default=0), o.from_ or dt.date.min))


class ProfileMethods:
    __slots__ = ()
    if TYPE_CHECKING:
        id: str
        tags: list[str]

    @property
    def all_tags(self) -> set[str]:
        return {self.id, *self.tags}


# --------------------------------------------------------------------------- records


def _dump(v: Any, json_mode: bool, by_alias: bool, exclude_none: bool) -> Any:
    if isinstance(v, Record):
        return v._dump_fields(json_mode, by_alias, exclude_none)
    if isinstance(v, list):
        return [_dump(x, json_mode, by_alias, exclude_none) for x in v]
    if isinstance(v, tuple):
        items = [_dump(x, json_mode, by_alias, exclude_none) for x in v]
        return items if json_mode else tuple(items)
    if isinstance(v, dict):
        return {k: _dump(x, json_mode, by_alias, exclude_none) for k, x in v.items()}
    if json_mode:
        if isinstance(v, Enum):
            return v.value
        if isinstance(v, dt.date):
            return v.isoformat()
    return v


class Record:
    """A validated registry object, read-only.  Its fields are its ``__dict__``, in the model's order."""

    _aliases: dict[str, str] = {}  # field -> the name it has in the registry's files, where they differ

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: '{name}' cannot be set")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen: '{name}' cannot be deleted")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self.__dict__.values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"

    def model_dump(self, *, mode: str = "python", by_alias: bool = False, exclude_none: bool = False) -> dict[str, Any]:
        """The record as a dict, as pydantic's ``model_dump`` gives the model it was made from
        (``mode`` "python" or "json", ``by_alias``, ``exclude_none``)."""
        if mode not in ("python", "json"):
            raise ValueError(f"mode must be 'python' or 'json', not {mode!r}")
        return self._dump_fields(mode == "json", by_alias, exclude_none)

    def _dump_fields(self, json_mode: bool, by_alias: bool, exclude_none: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if exclude_none and v is None:
                continue
            out[self._aliases.get(k, k) if by_alias else k] = _dump(v, json_mode, by_alias, exclude_none)
        return out


_FROM = {"from_": "from"}


class Alias(Record):
    pass


class Period(PeriodMethods, Record):
    _aliases = _FROM


class Entity(EntityMethods, Record):
    _aliases = _FROM


class ProductOperator(ProductOperatorMethods, Record):
    _aliases = _FROM


class Mark(Record):
    pass


class Product(ProductMethods, Record):
    pass


class Signature(Record):
    pass


class FamilySignature(Signature):
    pass


class NegativeSignature(Record):
    pass


class Family(Record):
    pass


class ReportWindow(Record):
    pass


class Obligation(Record):
    pass


class Coverage(Record):
    pass


class Restriction(Record):
    pass


class Profile(ProfileMethods, Record):
    pass


class OuiAssignment(Record):
    pass


class OuiTable(Record):
    pass


class DomainEntry(Record):
    pass


class DomainTable(Record):
    pass


class PenAssignment(Record):
    pass


class PenTable(Record):
    pass


class Overlay(Record):
    pass


RECORDS: dict[str, type[Record]] = {
    c.__name__: c for c in (
        Alias, Period, Entity, ProductOperator, Mark, Product, Signature, FamilySignature, NegativeSignature,
        Family, ReportWindow, Obligation, Coverage, Restriction, Profile, OuiAssignment, OuiTable, DomainEntry,
        DomainTable, PenAssignment, PenTable, Overlay)
}


def freeze(obj: Any) -> Any:
    """``obj`` with every pydantic model in it (at any depth, in lists, tuples and dicts) copied into
    the record of the same name; anything else as it is."""
    cls = type(obj)
    if hasattr(cls, "__pydantic_fields__"):
        rec = RECORDS[cls.__name__]  # KeyError: a model without a record (tests check there is none)
        return rec(**{k: freeze(v) for k, v in obj.__dict__.items()})
    if cls is list:
        return [freeze(x) for x in obj]
    if cls is tuple:
        return tuple(freeze(x) for x in obj)
    if cls is dict:
        return {k: freeze(v) for k, v in obj.items()}
    return obj
