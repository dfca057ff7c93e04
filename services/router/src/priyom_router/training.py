"""``make train-router``: train the learned classifier, print its held-out figures, write the model.

Sources of labelled examples:

* ``--contacts FILE`` (repeatable): JSON lines with ``subject``, ``body`` and ``type``: the project's
  labelled contacts (``services/router/training/contacts/train.jsonl``, see its LABELLING.md), or confirmed
  ticket types exported from elsewhere (``--tickets`` is the former name).
* ``--database URL``: the router's own database, where it keeps every ``ticket.type-corrected`` an agent
  caused (the corrected type and the text judged). These are the examples the rules and the model got
  wrong, so each one teaches most.
* ``--corpus DIR --labels CSV``: corpus e-mails (``../shared/corpus``) with labels reviewed by hand, kept
  in the repository as ``(path, label, why)`` only; the mail itself is never copied into the repository.

``--heldout FILE`` is never trained on: the model, and the router's whole decision (the rule book first, the
model where no rule fires), are judged on it, with accuracy and each type's precision and recall. Identical
texts are kept once, so a message and its twin cannot sit on both sides.
"""

from __future__ import annotations

import argparse
import csv
import email
import hashlib
import html
import json
import re
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

from priyom_contracts import ClientMatch, ContactType, MatchKind

from .contact_type import Facts, classify
from .learned import ContactModel, save_model
from .model_cv import FOLDS, cross_validate
from .model_fit import Decide, Example, Report, evaluate, file_digest, fit, model_decision
from .own_text import reading
from .rules import RuleBook, default_rule_text, parse_rule_book

_TAG = re.compile(r"<[^>]+>")
#: The labelled set says "telephony" for an agent's note of a call; the services publish "phone".
CHANNELS = {"telephony": "phone"}

__all__ = ["Example", "correction_examples", "corpus_examples", "distinct", "labelled_examples", "main",
           "read_mail", "rule_book_decision"]


def _part_text(part: EmailMessage) -> str:
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):
        raw = part.get_payload(decode=True) or b""
        raw = raw if isinstance(raw, bytes) else b""
        try:
            text = raw.decode(part.get_content_charset() or "utf-8", errors="replace")
        except LookupError:  # an invented charset name (x-unknown, utf-8-purple): read as UTF-8
            text = raw.decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        text = html.unescape(_TAG.sub(" ", text))
    return text


def read_mail(path: Path) -> tuple[str, str]:
    """Subject and the text of every text part of one stored e-mail (training only: in production the
    router gets text that intake-email already extracted)."""
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    subject = str(message.get("subject", "") or "")
    texts = [_part_text(p) for p in message.walk() if p.get_content_maintype() == "text"]
    return subject, "\n".join(texts)


def corpus_examples(corpus: Path, labels: Path) -> list[Example]:
    examples = []
    with labels.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            subject, body = read_mail(corpus / "email" / row["path"])
            examples.append(Example(subject, body, ContactType(row["label"]), row["path"]))
    return examples


def labelled_examples(path: Path) -> list[Example]:
    """JSON lines ``{"subject", "body", "type", "channel"?}``."""
    examples = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            record = json.loads(line)
            channel = CHANNELS.get(record.get("channel") or "email", record.get("channel") or "email")
            examples.append(Example(record.get("subject"), record.get("body") or "", ContactType(record["type"]),
                                    f"{path.name}:{n}", channel))
    return examples


def correction_examples(url: str) -> list[Example]:
    """Agents' corrections kept by the router (``type_corrections``); none when the database does not exist
    yet (a SQLite file is never created by reading it)."""
    import asyncio

    from sqlalchemy.engine import make_url

    from priyom_kit.db import Database

    from .store import corrections

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        return []

    async def read() -> list[Example]:
        database = Database(url)
        await database.open()
        try:
            async with database.sessions() as session:
                found = await corrections(session)
        finally:
            await database.close()
        return [Example(c.subject, c.text, c.type, f"ticket {c.ticket_number}") for c in found]

    return asyncio.run(read())


def distinct(examples: list[Example]) -> list[Example]:
    seen: set[str] = set()
    kept = []
    for example in examples:
        key = hashlib.sha256(" ".join(example.text.split()).lower().encode()).hexdigest()
        if key not in seen:
            seen.add(key)
            kept.append(example)
    return kept


def rule_book_decision(book: RuleBook, model: ContactModel) -> Decide:
    """The router's whole classification of an example (rules first, then the model; no client card)."""
    received = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).astimezone(book.zone)

    def decide(example: Example) -> tuple[ContactType, bool]:
        client = ClientMatch(client_id=uuid.UUID(int=0), first_contact=False,
                             match=MatchKind.EXACT_EMAIL)
        facts = Facts(channel=example.channel, text=reading(example.subject, example.body), client=client,
                      local_time=received)
        kind = classify(book, facts, model)
        return kind.type, kind.triage

    return decide


def _print(title: str, report: Report) -> None:
    print(title)
    for line in report.lines():
        print("  " + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m priyom_router.training", description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", "--tickets", type=Path, action="append", default=[],
                        help="JSON lines of labelled contacts (subject, body, type); repeatable")
    parser.add_argument("--heldout", type=Path, help="JSON lines never trained on: the figures are measured here")
    parser.add_argument("--corpus", type=Path, help="the shared corpus folder (with email/)")
    parser.add_argument("--labels", type=Path, help="CSV of (path, label, why) under corpus/email")
    parser.add_argument("--database", help="the router's database URL, for agents' type corrections")
    parser.add_argument("--out", type=Path, default=Path("var/router-model.json"))
    parser.add_argument("--cv", type=int, default=0, metavar="K",
                        help=f"also print K-fold cross-validation on the training examples ({FOLDS} in make "
                             "train-router): where model and feature choices are judged, never on --heldout")
    args = parser.parse_args(argv)

    examples: list[Example] = []
    if args.database:
        corrected = correction_examples(args.database)
        print(f"{len(corrected)} type corrections from the router's database")
        examples += corrected
    for path in args.contacts:
        examples += labelled_examples(path)
    if args.corpus and args.labels:
        if not (args.corpus / "email").is_dir():
            print(f"corpus not found at {args.corpus}", file=sys.stderr)
            return 2
        examples += corpus_examples(args.corpus, args.labels)
    examples = distinct(examples)  # first kept: an agent's correction wins over a hand label of the same text
    if len({e.label for e in examples}) < 2:
        print("need labelled examples of at least two types (--contacts, or --corpus with --labels)",
              file=sys.stderr)
        return 2
    counts = Counter(e.label.value for e in examples)
    print(f"{len(examples)} distinct labelled examples: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    trained_on = {"files": {p.name: file_digest(p) for p in args.contacts}}
    book = parse_rule_book(default_rule_text())
    if args.cv:
        judged = cross_validate(examples, {"the model alone": lambda m: model_decision(m, book.classifier_threshold),
                                           "the router (rules, then the model)": lambda m: rule_book_decision(book, m)},
                                book.classifier_threshold, args.cv)
        print("\n".join(judged.lines()))
    model = fit(examples, trained_on)
    if args.heldout:
        held_out = labelled_examples(args.heldout)
        _print("the model alone, on the held-out contacts:", evaluate(model_decision(model, book.classifier_threshold), held_out,
                                             book.classifier_threshold))
        _print("the router (built-in rule book first, the model where no rule fires), on the held-out contacts:",
               evaluate(rule_book_decision(book, model), held_out, book.classifier_threshold))
    save_model(model, args.out)
    print(f"model of {len(model.terms)} terms trained on all {len(examples)} examples written to {args.out} "
          "(ROUTER_MODEL_FILE names it; without it the router uses its built-in model)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
