"""What a rule file may say: a pydantic model that refuses unknown keys.

A rule is data, not code: an auditor can read it, adjust a parameter, or add
one without touching Python. The model is the single definition of the format;
docs/rules.md describes it in prose.
"""

from __future__ import annotations

import math
import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from coaltrace.contract import TABLES
from coaltrace.i18n import Text
from coaltrace.rules.at_risk import OriginClass
from coaltrace.severity import Severity


class Status(StrEnum):
    experimental = "experimental"
    stable = "stable"


class Entity(StrEnum):
    """What a finding points at, and the column that names it."""

    facility = "facility"
    trip = "trip"
    intake = "intake"
    sale = "sale"
    power_account = "power_account"
    plate = "plate"
    flow = "flow"


class TonnesRole(StrEnum):
    """What a finding's tonnes at risk are, so that the headline counts each tonne once.

    origin: the tonnes entered the chain here with no licensed source (an unlicensed or
    closed producer, production over capacity, a shortfall at a non-mine); the audit's
    total adds them, once per facility and origin class. carried: tonnes that entered at
    another finding's origin and travelled on (a flow, a buyer); shown, never added.
    records: the tonnes on the records found (a trip, an intake, a breach in time);
    shown, never added, since provenance judges where that coal came from.
    none: the finding has no tonnes (power use, a plate, a code).
    """

    origin = "origin"
    carried = "carried"
    records = "records"
    none = "none"


class ParamType(StrEnum):
    int = "int"
    float = "float"
    str = "str"
    bool = "bool"
    date = "date"
    list = "list"


def _filled(text: Text) -> Text:
    if not text.zh.strip() or not text.en.strip():
        raise ValueError("both zh and en must say something")
    return text


# A sentence of a rule file in both languages: the one bilingual type (coaltrace.i18n.Text), never empty.
RuleText = Annotated[Text, AfterValidator(_filled)]


_PYTHON_TYPES: dict[ParamType, tuple[type, ...]] = {
    ParamType.int: (int,),
    ParamType.float: (int, float),
    ParamType.str: (str,),
    ParamType.bool: (bool,),
    ParamType.date: (date,),
    ParamType.list: (list,),
}


def coerce_param(ptype: ParamType, value: Any) -> Any:
    """A value of the declared type, from YAML, TOML or a command-line string."""
    if isinstance(value, str) and ptype is not ParamType.str:
        text = value.strip()
        if ptype is ParamType.int:
            return int(text)
        if ptype is ParamType.float:
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(f"not a finite number: {value!r}")
            return number
        if ptype is ParamType.bool:
            if text.lower() in ("true", "yes", "1", "on"):
                return True
            if text.lower() in ("false", "no", "0", "off"):
                return False
            raise ValueError(f"not a boolean: {value!r}")
        if ptype is ParamType.date:
            return date.fromisoformat(text)
        if ptype is ParamType.list:
            return [part.strip() for part in text.split(",") if part.strip()]
    # bool is an int in Python; a flag must not pass for a number or the reverse.
    if isinstance(value, bool) and ptype in (ParamType.int, ParamType.float):
        raise ValueError(f"expected {ptype.value}, got a boolean")
    if not isinstance(value, _PYTHON_TYPES[ptype]):
        raise ValueError(f"expected {ptype.value}, got {type(value).__name__} {value!r}")
    if ptype is ParamType.float:
        number = float(value)  # type: ignore[arg-type]  # isinstance above admits only int and float
        if not math.isfinite(number):
            raise ValueError(f"not a finite number: {value!r}")
        return number
    return value


class Param(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ParamType
    default: Any
    description: RuleText
    min: float | None = None
    max: float | None = None
    # For a str parameter: the words it may take (a policy, a mode); for a list, the words its
    # items may be, and then it must name at least one.
    choices: list[str] | None = None

    @model_validator(mode="after")
    def _default_fits(self) -> Param:
        if self.choices is not None and self.type not in (ParamType.str, ParamType.list):
            raise ValueError("choices: only a str or list parameter takes a list of choices")
        try:
            object.__setattr__(self, "default", self.check(self.default))
        except ValueError as e:
            raise ValueError(f"default: {e}") from None
        return self

    def check(self, value: Any) -> Any:
        value = coerce_param(self.type, value)
        if self.choices is not None:
            items = value if self.type is ParamType.list else [value]
            if not items:
                raise ValueError(f"name at least one of {', '.join(self.choices)}")
            wrong = [v for v in items if v not in self.choices]
            if wrong:
                raise ValueError(f"{', '.join(map(repr, wrong))} is not one of {', '.join(self.choices)}")
        if self.min is not None and value < self.min:
            raise ValueError(f"{value} is below the minimum {self.min}")
        if self.max is not None and value > self.max:
            raise ValueError(f"{value} is above the maximum {self.max}")
        return value


class Checks(BaseModel):
    """Which of the campaign's eight checks (八查) and which 整治重点 clauses the rule serves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    check: list[int] = Field(min_length=1)
    clause: list[int] = Field(default_factory=list)

    @field_validator("check")
    @classmethod
    def _eight(cls, v: list[int]) -> list[int]:
        if any(not 1 <= c <= 8 for c in v):
            raise ValueError("the campaign has checks 1 to 8")
        return v

    @field_validator("clause")
    @classmethod
    def _six(cls, v: list[int]) -> list[int]:
        if any(not 1 <= c <= 6 for c in v):
            raise ValueError("the plan names 整治重点 clauses 1 to 6")
        return v


class Tonnes(BaseModel):
    """How a rule's tonnes at risk count in the audit's total (see TonnesRole)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    role: TonnesRole
    origin_class: OriginClass | None = Field(None, alias="class")

    @model_validator(mode="after")
    def _class_iff_origin(self) -> Tonnes:
        if (self.role is TonnesRole.origin) != (self.origin_class is not None):
            raise ValueError("class: an origin rule names the origin class of its tonnes, and only an origin rule")
        return self


class RuleCase(BaseModel):
    """One regression case: small input tables, and what must and must not be found."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    period: str = "2021-12"
    params: dict[str, Any] = Field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]]
    expect: list[str] = Field(default_factory=list)
    reject: list[str] = Field(default_factory=list)
    # Severity expected for a found entity, when the rule grades its findings.
    severity: dict[str, Severity] = Field(default_factory=dict)

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, v: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        for name, rows in v.items():
            if name not in TABLES:
                raise ValueError(f"unknown table {name!r}; the tables are {', '.join(TABLES)}")
            known = set(TABLES[name].names)
            for row in rows:
                extra = set(row) - known
                if extra:
                    raise ValueError(f"table {name}: unknown column(s) {', '.join(sorted(extra))}")
        return v

    @model_validator(mode="after")
    def _says_something(self) -> RuleCase:
        if not self.expect and not self.reject:
            raise ValueError("a case must list the entity ids it expects, rejects, or both")
        overlap = set(self.expect) & set(self.reject)
        if overlap:
            raise ValueError(f"ids both expected and rejected: {', '.join(sorted(overlap))}")
        return self


_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: int = Field(ge=1)
    title: RuleText
    description: RuleText
    checks: Checks
    severity: Severity
    status: Status
    entity: Entity
    tonnes: Tonnes = Tonnes(role=TonnesRole.records)
    # What the rule cannot judge without: a contract table (time tables need rows in the audited
    # period, the registers rows at all), or `table.column` (some row must hold a value there).
    requires: list[str] = Field(default_factory=list)
    params: dict[str, Param] = Field(default_factory=dict)
    query: str = Field(min_length=1)
    evidence: list[str] = Field(min_length=1)
    false_positives: list[RuleText] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    enabled: bool = True
    tests: list[RuleCase] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("an id is lower case letters, digits and underscores, starting with a letter")
        return v

    @field_validator("requires")
    @classmethod
    def _known_tables(cls, v: list[str]) -> list[str]:
        unknown = []
        for needed in v:
            table, _, column = needed.partition(".")
            if table not in TABLES or (column and column not in TABLES[table].names):
                unknown.append(needed)
        if unknown:
            raise ValueError(
                f"unknown table or column {', '.join(unknown)}; name a table ({', '.join(TABLES)}) or table.column"
            )
        return v

    def required_tables(self) -> set[str]:
        return {needed.partition(".")[0] for needed in self.requires}

    @field_validator("params")
    @classmethod
    def _param_names(cls, v: dict[str, Param]) -> dict[str, Param]:
        for name in v:
            if not _ID.match(name):
                raise ValueError(f"parameter name {name!r}: use lower case letters, digits and underscores")
        return v

    def param_values(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Defaults, then the overrides (checked against the declared type and range)."""
        values = {name: p.default for name, p in self.params.items()}
        for name, value in (overrides or {}).items():
            if name not in self.params:
                known = ", ".join(self.params) or "none"
                raise KeyError(f"rule {self.id} has no parameter {name!r} (its parameters: {known})")
            values[name] = self.params[name].check(value)
        return values
