"""The rule book: one YAML document a supervisor reads and edits, validated before it may take effect.

It holds the classification rules (first match wins), the categories of types the learned model chooses,
the urgency rules, the teams with their skills,
members and working hours, the assignment order, SLA targets and priorities. A file that does not parse or
validate is refused with the line and the reason (:class:`RuleFileError`), so the rules that are active stay
active. The built-in book is ``default_rules.yaml`` beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from functools import cached_property
from importlib import resources
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import re2
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from priyom_contracts import ContactType, Urgency

from .text_match import Keyword

Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


class Strict(BaseModel):
    """Unknown keys are errors: a misspelt condition must not silently match everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def index(self) -> int:
        return list(Weekday).index(self)


class Hours(Strict):
    """A weekly window in the book's time zone; ``to`` before ``from`` spans midnight (a night shift)."""

    days: list[Weekday] = Field(default_factory=lambda: list(Weekday))
    from_: time = Field(alias="from")
    to: time

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _keywords(values: list[str]) -> tuple[Keyword, ...]:
    return tuple(Keyword.parse(v) for v in values)


class When(Strict):
    """Conditions of a rule; all that are given must hold. An empty ``when`` always holds."""

    channel: list[Name] | None = None
    keywords: list[str] | None = Field(default=None, description="Any of these words or phrases")
    all_keywords: list[str] | None = Field(default=None, description="Every one of these")
    not_keywords: list[str] | None = Field(default=None, description="None of these")
    regex: list[str] | None = Field(default=None, description="Any of these (case-insensitive) matches")
    sla_tier: list[Name] | None = None
    has_contract: bool | None = Field(default=None, description="The client has a contract valid today")
    tags: list[Name] | None = Field(default=None, description="The client has any of these tags")
    first_contact: bool | None = None
    time: Hours | None = None

    @field_validator("keywords", "all_keywords", "not_keywords")
    @classmethod
    def _valid_keywords(cls, values: list[str] | None) -> list[str] | None:
        if values is not None:
            if not values:
                raise ValueError("an empty list never matches; leave the condition out instead")
            _keywords(values)
        return values

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, values: list[str] | None) -> list[str] | None:
        for pattern in values or ():
            rule_regex(pattern)
        return values

    @cached_property
    def any_of(self) -> tuple[Keyword, ...]:
        return _keywords(self.keywords or [])

    @cached_property
    def all_of(self) -> tuple[Keyword, ...]:
        return _keywords(self.all_keywords or [])

    @cached_property
    def none_of(self) -> tuple[Keyword, ...]:
        return _keywords(self.not_keywords or [])

    @cached_property
    def patterns(self) -> tuple[Any, ...]:
        return tuple(rule_regex(p) for p in self.regex or ())


def rule_regex(pattern: str) -> Any:
    """A rule's regular expression, compiled by RE2, case-insensitive.

    A supervisor's pattern runs on every customer's text inside the consumer's event loop. Python's ``re``
    backtracks: ``(a+)+$`` on 26 characters took 15 s and stalled every contact of the process. RE2 matches in
    time linear in the text and refuses what needs backtracking (back-references, look-arounds), so such a
    pattern is an error in the book, shown with the line, instead of a freeze in production.
    """
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # the reason goes into the book's error, not to stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"bad regular expression {pattern!r}: {reason} (rules use RE2 syntax, which runs in linear time: "
            "no back-references or look-arounds)"
        ) from None


class Then(Strict):
    type: ContactType
    #: None: the category comes from the book's ``categories`` rules for the type, as for the model's types.
    category: Name | None = None
    product: Name | None = None
    urgency: Urgency | None = None


class ClassifyRule(Strict):
    name: Name
    when: When = Field(default_factory=When)
    then: Then


class CategoryRule(Strict):
    """The category of a type the learned model chose (a rule that fires gives its own category)."""

    name: Name
    type: ContactType
    when: When = Field(default_factory=When)
    category: Name
    product: Name | None = None


class UrgencyRule(Strict):
    name: Name
    when: When
    urgency: Urgency


class Team(Strict):
    name: Name
    skills: list[Name] = Field(default_factory=list, description="Categories this team handles")
    members: list[Name] = Field(default_factory=list)
    hours: Hours | None = Field(default=None, description="Working hours; absent means around the clock")
    after_hours: Literal["on_duty", "queue"] = Field(
        default="on_duty", description="Outside hours: to the on-duty queue, or wait in this team's queue")


class Step(StrEnum):
    ACCOUNT_MANAGER = "account_manager"
    SALES = "sales"
    FIRST_LINE = "first_line"
    SKILLS = "skills"


class Assignment(Strict):
    order: list[Step] = Field(default_factory=lambda: list(Step))
    balancing: Literal["least_loaded", "round_robin"] = "least_loaded"
    sales_team: Name = "sales"
    first_line_team: Name = "support"
    default_team: Name = "support"
    on_duty_team: Name = "on-duty"
    #: Where a contact goes when the learned model is not sure of its type (both guesses shown); none: the
    #: first-line team, which then triages.
    triage_team: Name | None = None
    #: Until an agent's state is reported, assume they are at work (a fresh deployment assigns at once).
    available_by_default: bool = True


class SlaTarget(Strict):
    first_response_minutes: int = Field(gt=0)
    resolution_minutes: int = Field(gt=0)


class Priority(Strict):
    """1 is the most urgent. The type sets the base; the client's tier and the urgency move it."""

    by_type: dict[ContactType, int] = Field(default_factory=dict)
    by_tier: dict[str, int] = Field(default_factory=dict)
    by_urgency: dict[Urgency, int] = Field(default_factory=dict)
    base: int = 3
    lowest: int = Field(default=5, ge=1)


class RuleBook(Strict):
    timezone: str = "UTC"
    default: Then = Then(type=ContactType.INFORMATION_REQUEST, category="general")
    classifier_threshold: float = Field(default=0.6, ge=0, le=1)
    rules: list[ClassifyRule]
    categories: list[CategoryRule] = Field(default_factory=list)
    urgency: list[UrgencyRule] = Field(default_factory=list)
    teams: list[Team]
    assignment: Assignment = Field(default_factory=Assignment)
    #: SLA by tier, then urgency. A tier missing here falls back to ``standard``.
    sla: dict[str, dict[Urgency, SlaTarget]]
    priority: Priority = Field(default_factory=Priority)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> RuleBook:
        names = [r.name for r in self.rules]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValueError(f"rule names must be unique, repeated: {', '.join(dupes)}")
        teams = {t.name for t in self.teams}
        a = self.assignment
        for role, team in (("sales_team", a.sales_team), ("first_line_team", a.first_line_team),
                           ("default_team", a.default_team), ("on_duty_team", a.on_duty_team),
                           ("triage_team", a.triage_team or a.first_line_team)):
            if team not in teams:
                raise ValueError(f"assignment.{role} names team {team!r}, which is not in teams")
        if "standard" not in self.sla:
            raise ValueError("sla needs a 'standard' tier, the fallback of every other tier")
        for tier, targets in self.sla.items():
            if missing := [u.value for u in Urgency if u not in targets]:
                raise ValueError(f"sla.{tier} has no target for: {', '.join(missing)}")
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def team_for_category(self, category: str) -> Team | None:
        """The first team (in file order) whose skills include the category."""
        return next((t for t in self.teams if category in t.skills), None)

    def balancing_group(self, team: str) -> BalancingGroup:
        """The teams whose loads one balanced pick in ``team`` depends on: ``team`` and every team linked to
        it through a shared member. Picks in one group are serialised; unrelated groups balance in parallel."""
        return self._groups[team]

    @cached_property
    def _groups(self) -> dict[str, BalancingGroup]:
        parent = {t.name: t.name for t in self.teams}

        def root(name: str) -> str:
            while parent[name] != name:
                name = parent[name]
            return name

        first_team_of: dict[str, str] = {}
        for t in self.teams:
            for member in t.members:
                other = first_team_of.setdefault(member, t.name)
                a, b = sorted((root(other), root(t.name)))
                parent[b] = a
        groups: dict[str, BalancingGroup] = {}
        for t in self.teams:
            key = root(t.name)
            linked = [u for u in self.teams if root(u.name) == key]
            members = tuple(dict.fromkeys(m for u in linked for m in u.members))
            groups[t.name] = BalancingGroup(key, tuple(u.name for u in linked), members)
        return groups


@dataclass(frozen=True)
class BalancingGroup:
    """Teams that share members, directly or through another team. ``key`` names the group's lock."""

    key: str
    teams: tuple[str, ...]
    members: tuple[str, ...]


class RuleFileError(ValueError):
    """A rule file that cannot take effect, with where (1-based line) and why."""

    def __init__(self, line: int | None, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}" if line else reason)


def parse_rule_book(text: str) -> RuleBook:
    """Parse and validate a YAML rule book, or raise :class:`RuleFileError` naming the line and the reason."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise RuleFileError(mark.line + 1 if mark else None, f"not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise RuleFileError(1, "the rule file must be a mapping (rules, teams, sla, …)")
    try:
        return RuleBook.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = tuple(error["loc"])
        where = ".".join(str(p) for p in location) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        raise RuleFileError(_line_of(node, location), f"{where}: {message}") from None


def _line_of(node: Any, location: tuple[Any, ...]) -> int | None:
    """The line of the deepest YAML node on ``location`` (pydantic's error path)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in location:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def default_rule_text() -> str:
    """The built-in rule book, shipped in the package."""
    return resources.files(__package__).joinpath("default_rules.yaml").read_text(encoding="utf-8")
