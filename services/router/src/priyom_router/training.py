"""``make train-router``: train the learned classifier and print its accuracy on a held-out split.

Sources of labelled examples, both optional:

* ``--database URL``: the router's own database, where it keeps every ``ticket.type-corrected`` an agent
  caused (the corrected type and the text judged). These are the examples the rules and the model got
  wrong, so each one teaches most.
* ``--tickets FILE``: JSON lines ``{"subject", "body", "type"}``, confirmed ticket types exported by other
  means (a migration from an older helpdesk, say).
* ``--corpus DIR --labels CSV``: corpus e-mails (``../shared/corpus``) with labels reviewed by hand, kept
  in the repository as ``(path, label, why)`` only; the mail itself is never copied into the repository.

Identical texts are kept once before the split, so a message and its twin (the corpus has CRLF/LF pairs)
cannot sit on both sides of it.
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
from collections import Counter
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

from priyom_contracts import ContactType

from .learned import fit, save_model

_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Example:
    text: str
    label: ContactType
    source: str


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
    texts = [_part_text(p) for p in message.walk() if p.get_content_maintype() == "text"]  # type: ignore[arg-type]
    return subject, "\n".join(texts)


def corpus_examples(corpus: Path, labels: Path) -> list[Example]:
    examples = []
    with labels.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            subject, body = read_mail(corpus / "email" / row["path"])
            examples.append(Example(f"{subject}\n{body}", ContactType(row["label"]), row["path"]))
    return examples


def ticket_examples(path: Path) -> list[Example]:
    examples = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            record = json.loads(line)
            examples.append(Example(f"{record.get('subject') or ''}\n{record.get('body') or ''}",
                                    ContactType(record["type"]), f"{path.name}:{n}"))
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
        return [Example(f"{c.subject or ''}\n{c.text}", c.type, f"ticket {c.ticket_number}") for c in found]

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


@dataclass
class Evaluation:
    examples: int
    held_out: int
    accuracy: float
    baseline: float
    macro_f1: float
    cv_accuracy: float
    report: str


def evaluate(examples: list[Example], test_size: float = 0.3, seed: int = 0, folds: int = 5) -> Evaluation:
    """Held-out accuracy on a stratified split, and ``folds``-fold cross-validated accuracy (0: skipped) for a
    steadier figure on so few examples."""
    from sklearn.metrics import accuracy_score, classification_report, f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split

    from .learned import MAX_CHARS, new_pipeline

    texts = [e.text for e in examples]
    labels = [e.label for e in examples]
    train_x, test_x, train_y, test_y = train_test_split(texts, labels, test_size=test_size, random_state=seed,
                                                        stratify=[label.value for label in labels])
    model = fit(train_x, train_y)
    predicted = model.predict([t[:MAX_CHARS] for t in test_x])
    truth = [label.value for label in test_y]
    cv_accuracy = float("nan")
    if folds:
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        cv_accuracy = float(cross_val_score(new_pipeline(), [t[:MAX_CHARS] for t in texts],
                                            [label.value for label in labels], cv=splits, scoring="accuracy").mean())
    majority = Counter(truth).most_common(1)[0][1] / len(truth)
    return Evaluation(len(examples), len(test_x), float(accuracy_score(truth, predicted)), majority,
                      float(f1_score(truth, predicted, average="macro")), cv_accuracy,
                      classification_report(truth, predicted, zero_division=0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m priyom_router.training", description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, help="the shared corpus folder (with email/)")
    parser.add_argument("--labels", type=Path, help="CSV of (path, label, why) under corpus/email")
    parser.add_argument("--database", help="the router's database URL, for agents' type corrections")
    parser.add_argument("--tickets", type=Path, help="JSON lines of confirmed ticket types")
    parser.add_argument("--out", type=Path, default=Path("var/router-model.joblib"))
    args = parser.parse_args(argv)

    examples: list[Example] = []
    if args.database:
        corrected = correction_examples(args.database)
        print(f"{len(corrected)} type corrections from the router's database")
        examples += corrected
    if args.tickets:
        examples += ticket_examples(args.tickets)
    if args.corpus and args.labels:
        if not (args.corpus / "email").is_dir():
            print(f"corpus not found at {args.corpus}", file=sys.stderr)
            return 2
        examples += corpus_examples(args.corpus, args.labels)
    examples = distinct(examples)  # first kept: an agent's correction wins over a hand label of the same text
    if len({e.label for e in examples}) < 2:
        print("need labelled examples of at least two types (--tickets, or --corpus with --labels)",
              file=sys.stderr)
        return 2
    counts = Counter(e.label.value for e in examples)
    print(f"{len(examples)} distinct labelled examples: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    result = evaluate(examples)
    print(f"held-out accuracy: {result.accuracy:.3f} on {result.held_out} examples (always guessing the "
          f"commonest type: {result.baseline:.3f}; macro F1 {result.macro_f1:.3f}); "
          f"5-fold cross-validated accuracy {result.cv_accuracy:.3f}")
    print(result.report)
    save_model(fit([e.text for e in examples], [e.label for e in examples]), args.out)
    print(f"model trained on all {len(examples)} examples written to {args.out} (set ROUTER_MODEL_FILE to use it)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
