"""The audit's config file (`coaltrace.toml`): parameters, and rules turned off where they do not fit.

    [params]
    "facility_low_licensed_share.min_share" = 0.75

    [[disable]]
    rule = "trip_remote_road_night"
    county = "阳城县"          # optional: only findings in this county
    period = "2021-12"         # optional: only when the audited period lies inside it
    reason = "night transport allowed during the 2021 winter supply order"

    [rules]
    timeout_s = 300            # a rule still running after this many seconds is stopped

What was in force for a rule is recorded with each of its findings.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coaltrace.errors import Location, UsageError
from coaltrace.period import Period

# Long enough for any sane rule on a province's year; short enough that a query that
# never ends does not hold the database until someone notices.
DEFAULT_RULE_TIMEOUT_S = 300.0
# A week: more is a typing mistake (and more than a timer can wait).
MAX_RULE_TIMEOUT_S = 7 * 24 * 3600.0


@dataclass(frozen=True)
class Disable:
    rule: str
    county: str | None = None
    period: str | None = None
    reason: str | None = None

    def covers(self, period: Period) -> bool:
        if self.period is None:
            return True
        scope = Period.parse(self.period)
        return scope.start <= period.start and period.end <= scope.end

    def as_record(self) -> dict[str, Any]:
        return {k: v for k, v in {"county": self.county, "period": self.period, "reason": self.reason}.items() if v}


@dataclass(frozen=True)
class AuditConfig:
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    disables: tuple[Disable, ...] = ()
    # Passed through untouched to the provenance builder.
    provenance: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    rule_timeout_s: float = DEFAULT_RULE_TIMEOUT_S

    def rule_off(self, rule_id: str, period: Period) -> Disable | None:
        """The entry that turns the whole rule off for this period, if any."""
        for d in self.disables:
            if d.rule == rule_id and d.county is None and d.covers(period):
                return d
        return None

    def counties_off(self, rule_id: str, period: Period) -> list[Disable]:
        return [d for d in self.disables if d.rule == rule_id and d.county is not None and d.covers(period)]

    def record(self, rule_id: str, period: Period) -> dict[str, Any]:
        """What this config did to one rule: kept with its findings."""
        return {
            "source": self.source,
            "params": self.params.get(rule_id, {}),
            "disabled": [d.as_record() for d in self.counties_off(rule_id, period)],
        }


def load_config(path: Path | None) -> AuditConfig:
    """Read PATH; with no path, ./coaltrace.toml if there is one, else an empty config."""
    if path is None:
        default = Path("coaltrace.toml")
        if not default.exists():
            return AuditConfig()
        path = default
    where = Location(file=str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
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
        raise UsageError(f"the config file is not valid TOML: {e}", location=where) from None
    unknown = set(data) - {"params", "disable", "provenance", "rules"}
    if unknown:
        raise UsageError(
            f"unknown section(s) {', '.join(sorted(unknown))}",
            location=where,
            hint="The config knows [params], [[disable]], [provenance] and [rules].",
        )
    for section, shape, example in (
        ("params", dict, "[params]"),
        ("disable", list, "[[disable]]"),
        ("provenance", dict, "[provenance]"),
        ("rules", dict, "[rules]"),
    ):
        if section in data and not isinstance(data[section], shape):
            raise UsageError(
                f"`{section}` must be written as a {example} section",
                location=where,
                zh=f"`{section}` 须写成 {example} 段",
            )
    provenance = data.get("provenance", {})
    _check_provenance(provenance, where)
    params: dict[str, dict[str, Any]] = {}
    for key, value in data.get("params", {}).items():
        rule_id, _, name = key.partition(".")
        if not name and isinstance(value, dict):
            # Unquoted, `trip_too_fast.max_kmh = 80` is a TOML dotted key: a table per rule.
            params.setdefault(rule_id, {}).update(value)
            continue
        if not name:
            raise UsageError(f"parameter {key!r} must be written RULE.NAME", location=where)
        params.setdefault(rule_id, {})[name] = value
    disables = []
    for entry in data.get("disable", []):
        if not isinstance(entry, dict) or "rule" not in entry or set(entry) - {"rule", "county", "period", "reason"}:
            got = sorted(entry) if isinstance(entry, dict) else repr(entry)
            raise UsageError(
                f"a [[disable]] entry needs `rule` and may have county, period, reason; got {got}",
                location=where,
            )
        if entry.get("period"):
            Period.parse(entry["period"])
        disables.append(Disable(**entry))
    return AuditConfig(
        params=params,
        disables=tuple(disables),
        provenance=provenance,
        source=str(path),
        rule_timeout_s=_rule_timeout(data.get("rules", {}), where),
    )


def _rule_timeout(section: dict[str, Any], where: Location) -> float:
    unknown = set(section) - {"timeout_s"}
    value = section.get("timeout_s", DEFAULT_RULE_TIMEOUT_S)
    if unknown or isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= MAX_RULE_TIMEOUT_S:
        raise UsageError(
            f"[rules] knows one setting, timeout_s: the seconds a rule may run, above 0 and at most {MAX_RULE_TIMEOUT_S:g}",
            zh=f"[rules] 只有一项设置 timeout_s：每条规则最多运行的秒数，须大于 0 且不超过 {MAX_RULE_TIMEOUT_S:g}",
            location=where,
        )
    return float(value)


def provenance_setting(path: Path | None) -> tuple[dict[str, Any] | None, str | None]:
    """The provenance config a trace, balance or yard page uses, and the file it came from.

    As `audit`: the --config file, else ./coaltrace.toml; with neither, None: keep what
    made the stored build (the audit's), rather than rebuild it with defaults.
    """
    config = load_config(path)
    return (config.provenance, config.source) if config.source else (None, None)


def _check_provenance(section: dict[str, Any], where: Location) -> None:
    """The [provenance] section is checked here, where its file is known, not when the audit uses it."""
    from pydantic import ValidationError

    from coaltrace.provenance.config import ProvenanceConfig

    try:
        ProvenanceConfig.model_validate(section)
    except ValidationError as e:
        raise UsageError(
            "the [provenance] section is wrong",
            zh="[provenance] 段有误",
            location=where,
            details=[f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()],
            hint="docs/provenance.md lists its settings and their ranges.",
            hint_zh="可用的设置及其范围见 docs/provenance.md。",
        ) from None
