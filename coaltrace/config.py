"""Every setting of coaltrace, as one validated model, read in one place.

    [params]                        # RULE.NAME = value; --param RULE.NAME=VALUE wins
    "facility_low_licensed_share.min_share" = 0.75

    [[disable]]                     # a rule turned off, for a county and/or a period
    rule = "trip_remote_road_night"
    county = "阳城县"
    period = "2021-12"
    reason = "night transport allowed during the 2021 winter supply order"

    [provenance]                    # the provenance model (docs/provenance.md)
    yields = {washery = 0.80}

    [rules]
    timeout_s = 300                 # a rule still running after this many seconds is stopped

    [engine]
    memory_limit = "2GB"            # DuckDB's own limit; it spills to temp_dir beyond it
    temp_dir = "/data/tmp"

    [report]                        # what the pages people open carry (report, yard page)
    letterhead = "晋城市能源局"      # printed at the top of every page
    logo = "logo.png"               # PNG, JPEG or SVG, embedded in the page
    template_dir = "templates/"     # templates here replace the shipped ones of the same name

    [ledger]                        # the problem ledger (docs/ledger.md)
    deadline_days = {critical = 15, high = 30, medium = 45, low = 60}
    problem_types = {trip_too_fast = "transport_anomaly"}

The file is `--config FILE`, else `./coaltrace.toml` if there is one. The
environment (`COALTRACE_MEMORY_LIMIT`, `COALTRACE_TEMP_DIR`, `COALTRACE_DB`,
`COALTRACE_LANG`, `COALTRACE_USER`) is read here and nowhere else. A wrong key or value is a
usage error that names its key path, in Chinese and English, with the same
words as a wrong rule file (`coaltrace.errors.validation_problems`).

This module imports nothing of coaltrace but the two leaves `errors` and
`period`, so any package may import it without an import cycle.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from coaltrace.errors import Location, UsageError, validation_problems
from coaltrace.period import Period

DEFAULT_CONFIG = Path("coaltrace.toml")
DEFAULT_DB = "coaltrace.duckdb"
# Long enough for any sane rule on a province's year; short enough that a query that
# never ends does not hold the database until someone notices.
DEFAULT_RULE_TIMEOUT_S = 300.0
# A week: more is a typing mistake (and more than a timer can wait).
MAX_RULE_TIMEOUT_S = 7 * 24 * 3600.0

ENV_DB = "COALTRACE_DB"
ENV_LANG = "COALTRACE_LANG"
ENV_MEMORY_LIMIT = "COALTRACE_MEMORY_LIMIT"
ENV_TEMP_DIR = "COALTRACE_TEMP_DIR"
# Who makes a change in the ledger when a command is not told (--as NAME).
ENV_USER = "COALTRACE_USER"

_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


FlowMeasure = Literal["declared", "physical", "declared_else_physical"]


class ProvenanceConfig(_Section):
    """What the provenance model assumes.

    Yields are upper bounds, so that a balance short against them is short for
    certain: a washery yields at most 85% washed coal per tonne of raw coal, a
    coking plant at most 80% coke per tonne of coal (70-80% in practice); every
    other facility passes coal through one for one.
    """

    yields: dict[str, float] = Field(
        default_factory=lambda: {"washery": 0.85, "coking_plant": 0.80},
        description="Output tonnes per tonne received, by facility kind; kinds not named pass 1.0.",
    )
    default_yield: float = Field(1.0, gt=0, le=1)
    flow_measure: FlowMeasure = Field(
        "declared_else_physical",
        description="Which tonnes move coal between facilities: the sales (declared), the trips "
        "(physical), or the sales where a pair has any and the trips where it has none.",
    )
    stock_window_days: int = Field(
        1, ge=0, description="A stock count this many days before the period start still opens it."
    )
    running_kinds: tuple[str, ...] = ("yard", "washery", "trader")
    min_unrecorded_facilities: int = Field(
        10,
        ge=1,
        description="When no facility of a kind received anything in the period while at least this many of "
        "them shipped coal, the data does not record that kind's inflows: their shortfalls are a data gap "
        "(`data_gap`), not unsourced coal. Fewer shippers with no inflow are judged one by one (a ring of "
        "fronts is a handful of facilities; a data set without a kind's inflows leaves out dozens), and the "
        "report says so (`inflows_maybe_unrecorded`).",
    )
    tolerance_t: float = Field(
        0.5, ge=0, description="Running stock must fall below -tolerance_t to count as a breach."
    )
    max_origin_nodes: int = Field(
        256,
        ge=0,
        description="Origin facilities tracked one by one; the rest are grouped per origin class.",
    )
    min_share: float = Field(1e-4, ge=0, lt=1, description="Smaller per-origin shares are grouped per origin class.")
    direct_max_nodes: int = Field(
        5000, ge=0, description="Up to this many facilities the solve uses a sparse LU; above, iteration."
    )

    def yield_for(self, kind: str | None) -> float:
        return self.yields.get(kind or "", self.default_yield)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]


class Disable(_Section):
    """A rule turned off: everywhere, or in one county, always or while the audited period lies in `period`."""

    rule: str
    county: str | None = None
    period: str | None = None
    reason: str | None = None

    @field_validator("period")
    @classmethod
    def _a_period(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                Period.parse(v)
            except UsageError as e:
                raise ValueError(e.message) from None
        return v

    def covers(self, period: Period) -> bool:
        if self.period is None:
            return True
        scope = Period.parse(self.period)
        return scope.start <= period.start and period.end <= scope.end

    def as_record(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, exclude={"rule"})


class RulesSettings(_Section):
    timeout_s: float = Field(DEFAULT_RULE_TIMEOUT_S, gt=0, le=MAX_RULE_TIMEOUT_S)

    @field_validator("timeout_s")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number of seconds")
        return v


class EngineSettings(_Section):
    """Where the rows are worked on: today one machine's DuckDB."""

    name: Literal["duckdb"] = "duckdb"
    # DuckDB's memory limit ("2GB", "1.5GiB"); beyond it, DuckDB spills to temp_dir.
    memory_limit: str | None = None
    temp_dir: Path | None = None
    threads: int | None = Field(None, ge=1, le=1024)

    @field_validator("memory_limit")
    @classmethod
    def _a_size(cls, v: str | None) -> str | None:
        if v is not None and not _MEMORY.match(v):
            raise ValueError(f"{v!r} is not a size such as 2GB or 1.5GiB")
        return v


class ReportSettings(_Section):
    """What the pages people open carry: a bureau's letterhead, its logo, its own templates.

    A relative path is read from the config file's folder; the logo is embedded in the page, so
    the page stays one file that needs no network.
    """

    letterhead: str | None = None
    logo: Path | None = None
    template_dir: Path | None = None


SeverityName = Literal["low", "medium", "high", "critical"]
DEFAULT_DEADLINE_DAYS: dict[SeverityName, int] = {"critical": 15, "high": 30, "medium": 45, "low": 60}


class LedgerSettings(_Section):
    """The problem ledger (台账): what an audit files there, and the deadlines and look-back it keeps."""

    sync: bool = Field(True, description="`audit` files its findings in the ledger.")
    min_severity: SeverityName = Field("low", description="Findings below this severity stay out of the ledger.")
    deadline_days: dict[SeverityName, int] = Field(
        default_factory=lambda: dict(DEFAULT_DEADLINE_DAYS),
        description="Days from finding to the rectification deadline (整改时限), by the item's severity; "
        "severities not named keep their default.",
    )
    problem_types: dict[str, str] = Field(
        default_factory=dict,
        description="RULE_ID = PROBLEM_TYPE: the ledger's problem type for a rule's findings "
        "(the shipped rules have theirs; others follow their first check).",
    )
    lookback_months: int = Field(2, ge=1, le=24, description="回头看 looks at items closed this many months before.")
    lookback_min_kwh: float = Field(
        1000.0, ge=0, description="A month's power use above this counts as activity at a closed item's site."
    )

    @field_validator("deadline_days")
    @classmethod
    def _positive(cls, v: dict[SeverityName, int]) -> dict[SeverityName, int]:
        for severity, days in v.items():
            if not 0 < days <= 3650:
                raise ValueError(f"{severity}: a deadline is 1 to 3650 days away, not {days}")
        return {**DEFAULT_DEADLINE_DAYS, **v}

    def days_for(self, severity: str) -> int:
        """Days to the deadline of an item of SEVERITY (an unknown one gets the most time)."""
        days = {str(k): v for k, v in self.deadline_days.items()}
        return days.get(severity, max(days.values()))


class AuditConfig(_Section):
    """The whole config: what `audit` runs with, and what it records with each finding."""

    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    disable: tuple[Disable, ...] = ()
    provenance: ProvenanceConfig = Field(default_factory=ProvenanceConfig)
    rules: RulesSettings = Field(default_factory=RulesSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    # The file it was read from; None when there was none (every setting at its default).
    source: str | None = Field(None, exclude=True)

    @field_validator("params", mode="before")
    @classmethod
    def _by_rule(cls, v: Any) -> Any:
        """`"rule.name" = 1` and, unquoted, the TOML table `rule = {name = 1}` both mean rule → name → 1."""
        if not isinstance(v, Mapping):
            return v
        out: dict[str, dict[str, Any]] = {}
        for key, value in v.items():
            rule_id, _, name = str(key).partition(".")
            if not name and isinstance(value, Mapping):
                out.setdefault(rule_id, {}).update(value)
            elif not name:
                raise ValueError(f"parameter {key!r} must be written RULE.NAME")
            else:
                out.setdefault(rule_id, {})[name] = value
        return out

    @model_validator(mode="after")
    def _disable_names_a_rule(self) -> AuditConfig:
        for d in self.disable:
            if not d.rule.strip():
                raise ValueError("a [[disable]] entry must name its rule")
        return self

    @property
    def rule_timeout_s(self) -> float:
        return self.rules.timeout_s

    def rule_off(self, rule_id: str, period: Period) -> Disable | None:
        """The entry that turns the whole rule off for this period, if any."""
        return next((d for d in self.disable if d.rule == rule_id and d.county is None and d.covers(period)), None)

    def counties_off(self, rule_id: str, period: Period) -> list[Disable]:
        return [d for d in self.disable if d.rule == rule_id and d.county is not None and d.covers(period)]

    def record(self, rule_id: str, period: Period) -> dict[str, Any]:
        """What this config did to one rule: kept with its findings."""
        return {
            "source": self.source,
            "params": self.params.get(rule_id, {}),
            "disabled": [d.as_record() for d in self.counties_off(rule_id, period)],
        }

    def provenance_setting(self) -> ProvenanceConfig | None:
        """The provenance config a reading command builds with: the file's, or None when no file was read
        (then the stored build's, see `coaltrace.provenance.current.wanted_config`)."""
        return self.provenance if self.source else None

    def report_settings(self, template_dir: Path | None = None) -> ReportSettings:
        """[report] with its paths read from the config file's folder, and --template-dir over its own."""
        base = Path(self.source).parent if self.source else Path(".")

        def at(path: Path | None) -> Path | None:
            return None if path is None else path if path.is_absolute() else base / path

        return self.report.model_copy(
            update={"logo": at(self.report.logo), "template_dir": template_dir or at(self.report.template_dir)}
        )

    def with_overrides(self, **changes: Any) -> AuditConfig:
        """This config with settings changed from the command line (`rules.timeout_s=...`)."""
        data = self.model_dump()
        for path, value in changes.items():
            section, _, key = path.partition("__")
            data.setdefault(section, {})[key] = value
        return _validated(data, self.source)


def parse_params(items: Iterable[str]) -> dict[str, dict[str, str]]:
    """`RULE.NAME=VALUE` strings from the command line, by rule."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, eq, value = item.partition("=")
        rule_id, dot, name = key.strip().partition(".")
        if not eq or not dot or not rule_id or not name:
            raise UsageError(
                f"--param {item!r}: write RULE.NAME=VALUE, e.g. trip_too_fast.max_kmh=90",
                zh=f"--param {item!r}：请写成 规则.参数=值，如 trip_too_fast.max_kmh=90",
            )
        out.setdefault(rule_id, {})[name] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    where = Location(file=str(path))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise UsageError(
            f"no config file at {path}",
            zh=f"{path} 处没有配置文件",
            hint="Give --config an existing TOML file.",
            hint_zh="请用 --config 指定一个存在的 TOML 文件。",
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(
            f"cannot read the config file {path}: {getattr(e, 'strerror', None) or e}",
            zh=f"无法读取配置文件 {path}：{getattr(e, 'strerror', None) or e}",
        ) from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(
            f"the config file is not valid TOML: {e}", zh=f"配置文件不是有效的 TOML：{e}", location=where
        ) from None


def _validated(data: Mapping[str, Any], source: str | None) -> AuditConfig:
    try:
        return AuditConfig.model_validate({**data, "source": source})
    except ValidationError as e:
        raise _invalid(e, source) from None


def _invalid(e: ValidationError, source: str | None, section: str | None = None) -> UsageError:
    """A config that does not validate, every problem at its key path (SECTION. before each, if given)."""
    problems = [(f"{section}.{where}" if section else where, en, zh) for where, en, zh in validation_problems(e)]
    return UsageError(
        f"the config is wrong: {len(problems)} problem(s)",
        zh=f"配置有误：{len(problems)} 处",
        location=Location(file=source) if source else None,
        details=[f"{where}: {en}" for where, en, _ in problems],
        details_zh=[f"{where}：{zh}" for where, _, zh in problems],
        hint="The config knows [params], [[disable]], [provenance], [rules], [engine], [report] and [ledger] "
        "(coaltrace.example.toml shows each; docs/provenance.md the provenance settings).",
        hint_zh="配置包括 [params]、[[disable]]、[provenance]、[rules]、[engine]、[report] 和 [ledger] 段"
        "（示例见 coaltrace.example.toml，来源追溯的设置见 docs/provenance.md）。",
    )


def load_config(
    path: Path | None = None,
    *,
    params: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
) -> AuditConfig:
    """The config: PATH (else ./coaltrace.toml if there is one), then the environment, then --param."""
    env = os.environ if env is None else env
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    data: dict[str, Any] = _read_toml(path) if path is not None else {}
    if isinstance(data.get("engine", {}), Mapping):
        data["engine"] = _engine_layers(dict(data.get("engine") or {}), env)
    given = parse_params(params)
    if given:
        merged = AuditConfig._by_rule(data.get("params") or {}) if isinstance(data.get("params", {}), Mapping) else {}
        for rule_id, values in given.items():
            merged.setdefault(rule_id, {}).update(values)
        data["params"] = merged
    return _validated(data, str(path) if path is not None else None)


# Engine settings given on the command line (--memory-limit, --temp-dir): they win for every store
# the process opens, over the environment and the config file.
_ENGINE_GIVEN: dict[str, Any] = {}


def give_engine(*, memory_limit: str | None = None, temp_dir: Path | None = None) -> None:
    """Record the command line's engine settings (None leaves a setting to the layers below)."""
    if memory_limit is not None and not _MEMORY.match(memory_limit):
        raise UsageError(
            f"--memory-limit {memory_limit!r} is not a size such as 2GB or 1.5GiB",
            zh=f"--memory-limit {memory_limit!r} 不是有效的大小（如 2GB、1.5GiB）",
        )
    given = {"memory_limit": memory_limit, "temp_dir": temp_dir}
    _ENGINE_GIVEN.clear()  # one command line at a time (tests run many in one process)
    _ENGINE_GIVEN.update({k: v for k, v in given.items() if v is not None})


def _engine_layers(from_file: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """[engine] as the file says, then the environment, then the command line."""
    for key, name in (("memory_limit", ENV_MEMORY_LIMIT), ("temp_dir", ENV_TEMP_DIR)):
        if env.get(name):
            from_file[key] = env[name]
    return {**from_file, **_ENGINE_GIVEN}


def machine_memory(cgroups: Path = Path("/proc/self/cgroup"), mounts: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit when lower (None
    where the system does not say). CGROUPS and MOUNTS: where the process's groups are listed and
    mounted."""
    try:
        total: int = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
    try:
        groups = cgroups.read_text().splitlines()
    except OSError:
        return total
    for line in groups:  # "0::/path" (v2), "4:memory:/path" (v1)
        _, controllers, where = line.split(":", 2)
        if controllers == "":
            limit = Path(mounts, where.lstrip("/"), "memory.max")
        elif "memory" in controllers.split(","):
            limit = Path(mounts, "memory", where.lstrip("/"), "memory.limit_in_bytes")
        else:
            continue
        try:
            text = limit.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


def default_memory_limit() -> str:
    """The engine's memory limit when none is given: a quarter of `machine_memory`, between 256 MiB
    and 1 GiB. Beyond it the engine spills to disk, so a province month stays within about 2 GB
    (the files being read take the rest) and runs under a 1 GB cap."""
    memory = machine_memory()
    mib = memory // 4 // 2**20 if memory is not None else 1024
    return f"{max(256, min(1024, mib))}MiB"


def engine_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> EngineSettings:
    """The engine settings a store opens with when its caller has no config of its own: [engine] of
    PATH (else ./coaltrace.toml if there is one), then the environment, then the command line."""
    env = os.environ if env is None else env
    if path is None and DEFAULT_CONFIG.exists():
        path = DEFAULT_CONFIG
    section = _read_toml(path).get("engine", {}) if path is not None else {}
    data = _engine_layers(dict(section) if isinstance(section, Mapping) else {}, env)
    try:
        return EngineSettings.model_validate(data)
    except ValidationError as e:
        raise _invalid(e, str(path) if path is not None else None, "engine") from None


def default_db(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--db, else $COALTRACE_DB, else ./coaltrace.duckdb."""
    return Path(explicit or os.environ.get(ENV_DB) or DEFAULT_DB)


def default_lang() -> Literal["zh", "en"]:
    """$COALTRACE_LANG when it says English, else Chinese."""
    return "en" if os.environ.get(ENV_LANG, "zh").lower().startswith("en") else "zh"


def default_user() -> str | None:
    """$COALTRACE_USER, the person a ledger change is made by when a command is not told (--as)."""
    name = os.environ.get(ENV_USER, "").strip()
    return name or None
