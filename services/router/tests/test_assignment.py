"""Assignment order, working hours, availability and balancing, on roster snapshots. Without I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from priyom_contracts import ContactType, Urgency
from priyom_router.assignment import Roster, assign, pick_agent
from priyom_router.contact_type import TRIAGE_RULE, Classification
from priyom_router.learned import Guess
from priyom_router.routing import decide, priority_of
from priyom_router.rules import RuleBook
from priyom_router.text_match import Text

from .books import book
from .conftest import WEDNESDAY_NOON, client, contact

TEAMS = """
- {name: support, skills: [general], members: [Анна, Павел],
   hours: {days: [mon, tue, wed, thu, fri], from: "08:00", to: "20:00"}}
- {name: sales, skills: [sales], members: [Дмитрий, Мария],
   hours: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00"}, after_hours: queue}
- {name: service, skills: [service], members: [Олег, Света, Игорь],
   hours: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "21:00"}}
- {name: on-duty, members: [Дежурный]}
"""


def make(order: str = "[account_manager, sales, first_line, skills]", balancing: str = "least_loaded") -> RuleBook:
    return book("[]", teams=TEAMS, assignment=f"{{order: {order}, balancing: {balancing}}}")


def kind(t: ContactType, category: str) -> Classification:
    return Classification(t, category, None, Urgency.NORMAL, "test")


SERVICE = kind(ContactType.SERVICE_REQUEST, "service")
PURCHASE = kind(ContactType.PURCHASE_INTEREST, "sales")
QUESTION = kind(ContactType.INFORMATION_REQUEST, "general")
NOON = WEDNESDAY_NOON.astimezone(make().zone)


def test_account_manager_first_when_available() -> None:
    b = make()
    placed = assign(SERVICE, client(manager="Ирина"), b, Roster(), NOON)
    assert (placed.assignee, placed.team, placed.step) == ("Ирина", "service", "account_manager")
    away = assign(SERVICE, client(manager="Ирина"), b, Roster(available={"Ирина": False}), NOON)
    assert away.assignee == "Олег" and "Ирина is not available" in away.trail[0]


def test_purchase_interest_goes_to_sales_after_the_manager_step() -> None:
    b = make()
    assert assign(PURCHASE, client(), b, Roster(), NOON).team == "sales"
    assert assign(PURCHASE, client(manager="Ирина"), b, Roster(), NOON).assignee == "Ирина"
    # The order is the supervisor's: sales before the manager sends the lead to the sales team.
    sales_first = make("[sales, account_manager, first_line, skills]")
    placed = assign(PURCHASE, client(manager="Ирина"), sales_first, Roster(), NOON)
    assert (placed.team, placed.assignee) == ("sales", "Дмитрий")


def test_information_request_stays_with_the_first_line_agent_who_registered_it() -> None:
    b = make()
    placed = assign(QUESTION, client(), b, Roster(), NOON, registered_by="Павел")
    assert (placed.team, placed.assignee, placed.step) == ("support", "Павел", "first_line")
    assert assign(QUESTION, client(), b, Roster(), NOON).team == "support"


def test_skills_pick_the_team_of_the_category_and_unknown_categories_go_to_default() -> None:
    b = make()
    assert assign(SERVICE, client(), b, Roster(), NOON).team == "service"
    other = assign(kind(ContactType.COMPLAINT, "quality"), client(), b, Roster(), NOON)
    assert other.team == "support" and "no team has the skill quality" in other.trail[0]


def test_steps_can_be_turned_off() -> None:
    b = make("[skills]")
    placed = assign(PURCHASE, client(manager="Ирина"), b, Roster(), NOON, registered_by="Павел")
    assert (placed.team, placed.step) == ("sales", "skills")


def test_outside_working_hours_to_the_on_duty_team() -> None:
    b = make()
    night = datetime(2026, 11, 25, 20, 0, tzinfo=UTC).astimezone(b.zone)  # 23:00 in Moscow
    placed = assign(SERVICE, client(), b, Roster(), night)
    assert (placed.team, placed.assignee, placed.waiting) == ("on-duty", "Дежурный", False)
    assert "outside service's hours (Wed 23:00): on-duty team on-duty" in placed.trail
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=UTC).astimezone(b.zone)
    assert assign(SERVICE, client(), b, Roster(), saturday).team == "on-duty"
    # Nobody on duty at hand: the contact waits in the on-duty queue.
    busy = assign(SERVICE, client(), b, Roster(available={"Дежурный": False}), night)
    assert (busy.team, busy.assignee, busy.waiting) == ("on-duty", None, True)


def test_a_team_may_keep_its_after_hours_contacts_in_its_own_queue() -> None:
    b = make()
    evening = datetime(2026, 11, 25, 16, 0, tzinfo=UTC).astimezone(b.zone)  # 19:00, sales closed at 18:00
    placed = assign(PURCHASE, client(), b, Roster(), evening)
    assert (placed.team, placed.assignee, placed.waiting, placed.until_opening) == ("sales", None, True, True)


def test_nobody_available_waits_in_the_team_queue() -> None:
    b = make()
    roster = Roster(available={"Олег": False, "Света": False, "Игорь": False})
    placed = assign(SERVICE, client(), b, roster, NOON)
    assert (placed.team, placed.assignee, placed.waiting, placed.until_opening) == ("service", None, True, False)


def test_least_loaded_available_agent() -> None:
    b = make()
    team = b.team("service")
    assert pick_agent(team, b, Roster(loads={"Олег": 3, "Света": 1, "Игорь": 2})) == "Света"
    assert pick_agent(team, b, Roster(loads={"Олег": 3, "Света": 1, "Игорь": 0},
                                      available={"Игорь": False})) == "Света"
    assert pick_agent(team, b, Roster(loads={"Олег": 1, "Света": 1, "Игорь": 1})) == "Олег"  # ties: file order


def test_round_robin_takes_turns_among_the_available() -> None:
    b = make(balancing="round_robin")
    team = b.team("service")
    assert pick_agent(team, b, Roster()) == "Олег"
    assert pick_agent(team, b, Roster(last_assigned={"service": "Олег"})) == "Света"
    assert pick_agent(team, b, Roster(last_assigned={"service": "Игорь"})) == "Олег"
    assert pick_agent(team, b, Roster(last_assigned={"service": "Олег"}, available={"Света": False})) == "Игорь"


def test_sequential_contacts_spread_over_the_team() -> None:
    """Feeding each decision back into the load, no agent gets a second contact while another has none."""
    b = make()
    loads: dict[str, int] = {}
    for _ in range(6):
        agent = pick_agent(b.team("service"), b, Roster(loads=loads))
        assert agent is not None
        loads[agent] = loads.get(agent, 0) + 1
        assert max(loads.values()) - min(loads.get(m, 0) for m in ("Олег", "Света", "Игорь")) <= 1
    assert loads == {"Олег": 2, "Света": 2, "Игорь": 2}


def test_priority_from_type_tier_and_urgency(default_book: RuleBook) -> None:
    complaint = kind(ContactType.COMPLAINT, "quality")
    question = kind(ContactType.INFORMATION_REQUEST, "general")
    assert priority_of(default_book, complaint, client()) == 2
    assert priority_of(default_book, complaint, client(tier="premium")) == 1
    assert priority_of(default_book, question, client()) == 4
    urgent = Classification(ContactType.COMPLAINT, "quality", None, Urgency.CRITICAL, "x")
    assert priority_of(default_book, urgent, client(tier="premium")) == 1  # never above the top


def test_full_decision_carries_rule_trail_priority_and_deadlines(default_book: RuleBook) -> None:
    decision = decide(contact("СРОЧНО: терминал не запускается"), "email", client(tier="premium"), default_book,
                      Roster(), version=7)
    r = decision.routing
    assert (r.type, r.rule, r.team, r.urgency, r.priority, r.rules_version) == (
        ContactType.SERVICE_REQUEST, "fault", "service", Urgency.HIGH, 1, 7)
    assert r.first_response_due_at == WEDNESDAY_NOON.replace(minute=15)  # premium × high: 15 minutes
    assert r.trail[0].startswith("rule fault fired")


UNSURE = Guess(((ContactType.PURCHASE_INTEREST, 0.41), (ContactType.SERVICE_REQUEST, 0.38),
                (ContactType.INFORMATION_REQUEST, 0.12), (ContactType.COMPLAINT, 0.09)))


def test_an_unsure_type_goes_to_triage_before_any_step_with_both_guesses(default_book: RuleBook) -> None:
    unsure = Classification(ContactType.PURCHASE_INTEREST, "sales", None, Urgency.NORMAL, TRIAGE_RULE, guess=UNSURE)
    # Even with an account manager: nobody should act on a type nobody is sure of.
    placed = assign(unsure, client(manager="Ирина Соколова"), default_book, Roster(), NOON)
    assert (placed.team, placed.assignee, placed.step) == ("triage", "Наталья Гордеева", "triage")
    assert placed.trail[0] == ("type uncertain (triage: purchase_interest 0.41 or service_request 0.38): "
                               "to triage")


def test_triage_is_the_first_line_when_the_book_names_no_triage_team() -> None:
    unsure = Classification(ContactType.PURCHASE_INTEREST, "sales", None, Urgency.NORMAL, TRIAGE_RULE, guess=UNSURE)
    placed = assign(unsure, client(), make(), Roster(), NOON)
    assert (placed.team, placed.step) == ("support", "triage") and placed.assignee in {"Анна", "Павел"}


def test_a_triaged_contact_carries_both_guesses_in_its_routing_reason(default_book: RuleBook) -> None:
    def unsure_model(text: Text) -> Guess:
        return UNSURE

    decision = decide(contact("Добрый день, у нас вопрос по серверу"), "email", client(), default_book, Roster(),
                      second_opinion=unsure_model)
    r = decision.routing
    assert (r.type, r.rule, r.team) == (ContactType.PURCHASE_INTEREST, "triage", "triage")
    assert r.reason.endswith("(triage: purchase_interest 0.41 or service_request 0.38)")
