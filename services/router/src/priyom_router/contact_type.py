"""What a contact is: the rule book's first matching rule, else the learned model, else triage.

The rules decide where they fire (the built-in book keeps only rules that are precise on the labelled set);
where none fires the learned model decides if it is at least ``classifier_threshold`` sure, and below that
the contact goes to triage with the model's two likeliest types: a person decides, nothing falls silently
to a default type. The category of a type the model chose comes from the book's ``categories`` rules.

Every decision carries a trail of plain sentences (which rule fired and on what word, which terms weighed
for the model's guess and how sure it was), because a supervisor who disagrees with a decision must be able
to see which line of the rule file to change, or which words misled the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from priyom_contracts import ClientMatch, ContactType, ServiceContract, Urgency

from .learned import Guess, SecondOpinion
from .rules import Hours, RuleBook, When
from .text_match import Text

CLASSIFIER_RULE = "classifier"
TRIAGE_RULE = "triage"
DEFAULT_RULE = "default"


@dataclass(frozen=True)
class Facts:
    """What the conditions look at, computed once per contact."""

    channel: str
    text: Text
    client: ClientMatch | None
    local_time: datetime

    @property
    def contract(self) -> ServiceContract | None:
        """The client's first contract valid on the day the contact arrived."""
        return valid_contract(self.client, self.local_time.date())


def valid_contract(client: ClientMatch | None, day: date) -> ServiceContract | None:
    for contract in client.contracts if client else ():
        if (contract.valid_from is None or contract.valid_from <= day) and (
            contract.valid_to is None or day <= contract.valid_to
        ):
            return contract
    return None


def within(hours: Hours, moment: datetime) -> bool:
    """Whether a local time falls in the window (a window with ``to`` before ``from`` spans midnight)."""
    if moment.weekday() not in {d.index for d in hours.days}:
        return False
    now: time = moment.time()
    if hours.from_ <= hours.to:
        return hours.from_ <= now < hours.to
    return now >= hours.from_ or now < hours.to


def check(when: When, facts: Facts) -> list[str] | None:
    """The reasons every given condition holds, or None as soon as one does not."""
    why: list[str] = []
    if when.channel is not None:
        if facts.channel not in when.channel:
            return None
        why.append(f"channel {facts.channel}")
    if when.any_of:
        hit = facts.text.first_hit(when.any_of)
        if hit is None:
            return None
        why.append(f"keyword «{hit.source}»")
    if when.all_of:
        if not all(facts.text.has(k) for k in when.all_of):
            return None
        why.append("all of " + ", ".join(f"«{k.source}»" for k in when.all_of))
    if when.none_of and facts.text.first_hit(when.none_of) is not None:
        return None
    if when.patterns:
        pattern = next((p for p in when.patterns if p.search(facts.text.raw)), None)
        if pattern is None:
            return None
        why.append(f"pattern /{pattern.pattern}/")
    client = facts.client
    if when.sla_tier is not None:
        if client is None or client.sla_tier not in when.sla_tier:
            return None
        why.append(f"SLA tier {client.sla_tier}")
    if when.has_contract is not None:
        contract = facts.contract
        if (contract is not None) != when.has_contract:
            return None
        why.append(f"contract {contract.number}" if contract else "no valid contract")
    if when.tags is not None:
        tags = sorted(set(when.tags) & set(client.tags if client else ()))
        if not tags:
            return None
        why.append("tag " + ", ".join(tags))
    if when.first_contact is not None:
        if client is None or client.first_contact != when.first_contact:
            return None
        why.append("first contact" if when.first_contact else "known client")
    if when.time is not None:
        if not within(when.time, facts.local_time):
            return None
        why.append(f"time {facts.local_time:%a %H:%M}")
    return why


@dataclass
class Classification:
    type: ContactType
    category: str
    product: str | None
    urgency: Urgency
    rule: str
    contract: str | None = None
    trail: list[str] = field(default_factory=list)
    #: The model's answer when it was asked (no rule fired).
    guess: Guess | None = None

    @property
    def triage(self) -> bool:
        """The model was not sure enough: a person in the triage team decides."""
        return self.rule == TRIAGE_RULE

    @property
    def note(self) -> str:
        """The rule's name, or the guesses a triage contact carries to the agent's screen."""
        if self.triage and self.guess is not None:
            (first, p1), (second, p2) = self.guess.ranked[:2]
            return f"triage: {first.value} {p1:.2f} or {second.value} {p2:.2f}"
        return self.rule


def classify(book: RuleBook, facts: Facts, second_opinion: SecondOpinion | None = None) -> Classification:
    """Type, category, product and urgency, with the rule that decided and the trail of why."""
    trail: list[str] = []
    result: Classification | None = None
    urgency_set = False
    for rule in book.rules:
        why = check(rule.when, facts)
        if why is not None:
            then = rule.then
            trail.append(f"rule {rule.name} fired" + (f": {'; '.join(why)}" if why else ""))
            category, product = ((then.category, then.product) if then.category is not None
                                 else _category(book, then.type, facts, trail))
            result = Classification(then.type, category, then.product or product,
                                    then.urgency or Urgency.NORMAL, rule.name, trail=trail)
            urgency_set = then.urgency is not None
            break
    if result is None:
        trail.append("no rule fired")
        result = _second_opinion(book, facts, second_opinion, trail)
    if result.type is ContactType.SERVICE_REQUEST:
        contract = facts.contract
        result.contract = contract.number if contract else None
        trail.append(f"service under contract {contract.number}" if contract
                     else "service request without a valid contract")
    if not urgency_set:
        result.urgency = _urgency(book, facts, trail)
    return result


def _second_opinion(book: RuleBook, facts: Facts, model: SecondOpinion | None,
                    trail: list[str]) -> Classification:
    default = book.default
    if model is None:
        trail.append("no classifier loaded: default type")
        category, product = ((default.category, default.product) if default.category is not None
                             else _category(book, default.type, facts, trail))
        return Classification(default.type, category, product, default.urgency or Urgency.NORMAL, DEFAULT_RULE,
                              trail=trail)
    guess = model(facts.text)
    (first, p1), (second, p2) = guess.ranked[:2]
    terms = ", ".join(f"«{t}» {w:+.2f}" for t, w in guess.terms) or "none"
    trail.append(f"classifier: {first.value} {p1:.2f}, then {second.value} {p2:.2f}; weighed most: {terms}")
    category, product = _category(book, first, facts, trail)
    if p1 >= book.classifier_threshold:
        trail.append(f"classifier sure ({p1:.2f} ≥ {book.classifier_threshold:.2f}): {first.value}")
        return Classification(first, category, product, Urgency.NORMAL, CLASSIFIER_RULE, trail=trail, guess=guess)
    trail.append(f"classifier unsure ({p1:.2f} < {book.classifier_threshold:.2f}): to triage with both guesses, "
                 f"{first.value} or {second.value}")
    return Classification(first, category, product, Urgency.NORMAL, TRIAGE_RULE, trail=trail, guess=guess)


def _category(book: RuleBook, kind: ContactType, facts: Facts, trail: list[str]) -> tuple[str, str | None]:
    """The category of a type no rule gave: the book's first ``categories`` rule for it that holds."""
    for rule in book.categories:
        if rule.type is kind:
            why = check(rule.when, facts)
            if why is not None:
                trail.append(f"category {rule.category} by {rule.name}" + (f": {'; '.join(why)}" if why else ""))
                return rule.category, rule.product
    if kind is book.default.type and book.default.category is not None:
        return book.default.category, book.default.product
    return kind.value, None


def _urgency(book: RuleBook, facts: Facts, trail: list[str]) -> Urgency:
    for rule in book.urgency:
        why = check(rule.when, facts)
        if why is not None:
            trail.append(f"urgency {rule.urgency.value} by {rule.name}: {'; '.join(why)}")
            return rule.urgency
    return Urgency.NORMAL
