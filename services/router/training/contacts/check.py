"""Validate the labelled contact set (train.jsonl, heldout.jsonl) and print a JSON summary.

Standard library only: ``python services/router/training/contacts/check.py`` (exit 0 when valid, 1 when not).

The allowed values are mirrored from ``priyom_contracts`` (ContactType, Urgency) and from the router's
rule book (``default_rules.yaml``) below. When the contracts package can be imported, or the rule book is
found, the mirror is compared with them and any drift is reported as an error, so a change there is noticed.
See LABELLING.md for what the labels mean.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
SPLITS = ("train", "heldout")

# Mirrored from packages/contracts/src/priyom_contracts/contacts.py (ContactType, Urgency).
CONTACT_TYPES = ("complaint", "information_request", "service_request", "purchase_interest")
URGENCIES = ("low", "normal", "high", "critical")
DEFAULT_URGENCY = "normal"

# The rule book's categories (services/router/src/priyom_router/default_rules.yaml), by the type its
# rules give them. "general" is the rule book's default category. Where a text fits none of a type's
# categories the category is the type itself (LABELLING.md: in practice service requests that do not
# say whether there is a contract).
RULE_BOOK_CATEGORIES = {
    "complaint": ("quality",),
    "information_request": ("general", "billing", "delivery", "mail-delivery"),
    "service_request": ("service", "service-no-contract"),
    "purchase_interest": ("sales",),
}
ALLOWED_CATEGORIES = {t: RULE_BOOK_CATEGORIES[t] + (t,) for t in CONTACT_TYPES}

LANGS = ("ru", "en")
CHANNELS = ("email", "telegram", "web", "telephony")
REQUIRED = {"id": str, "lang": str, "channel": str, "subject": (str, type(None)), "body": str,
            "type": str, "category": str, "urgency": str}
OPTIONAL = {"note": str}
ID_PATTERN = re.compile(r"^c\d{4,}$")
MAX_BODY_LINES = 15
MAX_NOTE_CHARS = 300

# Requirements of the set (issue 19).
MIN_PER_TYPE = 100
MIN_PER_TYPE_HELDOUT = 25
MIN_TOTAL = 700
# Near-duplicate threshold between a held-out text and any train text: Jaccard similarity of
# lower-cased character 5-gram sets. Unrelated texts on the same topic score below 0.3.
NEAR_DUPLICATE = 0.5


def normalise(text: str) -> str:
    """The key the trainer deduplicates on (priyom_router.training.distinct): words joined, lower case."""
    return " ".join(text.split()).lower()


def shingles(text: str, n: int = 5) -> set[str]:
    flat = normalise(text)
    return {flat[i:i + n] for i in range(max(1, len(flat) - n + 1))}


def read(path: Path, errors: list[str]) -> list[dict]:
    records = []
    if not path.is_file():
        errors.append(f"{path.name}: missing")
        return records
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"{path.name}:{n}: empty line")
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{path.name}:{n}: not JSON ({e.msg})")
            continue
        if not isinstance(record, dict):
            errors.append(f"{path.name}:{n}: not an object")
            continue
        record["_where"] = f"{path.name}:{n}"
        records.append(record)
    return records


def validate(record: dict, errors: list[str]) -> bool:
    where = f"{record['_where']} ({record.get('id')})"
    ok = True
    keys = set(record) - {"_where"}
    for key in sorted(set(REQUIRED) - keys):
        errors.append(f"{where}: missing field {key!r}")
        ok = False
    for key in sorted(keys - set(REQUIRED) - set(OPTIONAL)):
        errors.append(f"{where}: unknown field {key!r}")
        ok = False
    for key, kind in {**REQUIRED, **OPTIONAL}.items():
        if key in record and not isinstance(record[key], kind):
            errors.append(f"{where}: {key} has the wrong type ({type(record[key]).__name__})")
            ok = False
    if not ok:
        return False
    if not ID_PATTERN.match(record["id"]):
        errors.append(f"{where}: id does not match {ID_PATTERN.pattern}")
    for key, allowed in (("lang", LANGS), ("channel", CHANNELS), ("type", CONTACT_TYPES),
                         ("urgency", URGENCIES)):
        if record[key] not in allowed:
            errors.append(f"{where}: {key} {record[key]!r} not in {list(allowed)}")
            ok = False
    if record["type"] in ALLOWED_CATEGORIES and record["category"] not in ALLOWED_CATEGORIES[record["type"]]:
        errors.append(f"{where}: category {record['category']!r} not allowed for type {record['type']!r} "
                      f"(allowed: {list(ALLOWED_CATEGORIES[record['type']])})")
        ok = False
    body = record["body"]
    if not body.strip():
        errors.append(f"{where}: empty body")
    elif body != body.strip():
        errors.append(f"{where}: body has leading or trailing whitespace")
    lines = len(body.splitlines())
    if lines > MAX_BODY_LINES:
        errors.append(f"{where}: body has {lines} lines (at most {MAX_BODY_LINES})")
    if record["subject"] is not None and not record["subject"].strip():
        errors.append(f"{where}: empty subject (use null)")
    if "note" in record and not (0 < len(record["note"]) <= MAX_NOTE_CHARS):
        errors.append(f"{where}: note must be 1..{MAX_NOTE_CHARS} characters")
    if record["lang"] == "en":
        letters = [c for c in body if c.isalpha()]
        cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff")
        if letters and cyrillic / len(letters) > 0.3:
            errors.append(f"{where}: lang en but {cyrillic}/{len(letters)} letters are Cyrillic")
    return ok


def drift(errors: list[str], notes: list[str]) -> None:
    """Compare the mirrored constants with the contracts and the rule book when they are at hand."""
    try:
        from priyom_contracts import ContactType, Urgency  # optional: not needed to run this check
    except ImportError:
        notes.append("priyom_contracts not importable: mirrored ContactType/Urgency values used unchecked")
    else:
        if tuple(t.value for t in ContactType) != CONTACT_TYPES:
            errors.append(f"ContactType drift: contracts have {[t.value for t in ContactType]}")
        if tuple(u.value for u in Urgency) != URGENCIES:
            errors.append(f"Urgency drift: contracts have {[u.value for u in Urgency]}")
    rule_book = HERE.parents[1] / "src" / "priyom_router" / "default_rules.yaml"
    if not rule_book.is_file():
        notes.append(f"rule book not found at {rule_book}: categories used unchecked")
        return
    text = rule_book.read_text(encoding="utf-8")
    found = set(re.findall(r"\bcategory:\s*([A-Za-z0-9_-]+)", text))
    mirrored = {c for cats in RULE_BOOK_CATEGORIES.values() for c in cats}
    if found != mirrored:
        errors.append(f"rule book categories drift: rule book has {sorted(found)}, mirror has {sorted(mirrored)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=HERE, help="folder with train.jsonl and heldout.jsonl")
    args = parser.parse_args(argv)

    errors: list[str] = []
    notes: list[str] = []
    data = {split: read(args.dir / f"{split}.jsonl", errors) for split in SPLITS}
    valid = {split: [r for r in records if validate(r, errors)] for split, records in data.items()}

    # Identity: ids unique everywhere; no text twice (the trainer's dedup key) anywhere; no body shared
    # between the splits; no held-out text a near-duplicate of a train text.
    seen_ids: dict[str, str] = {}
    seen_texts: dict[str, str] = {}
    for split in SPLITS:
        for r in data[split]:
            rid = r.get("id")
            if rid in seen_ids:
                errors.append(f"{r['_where']}: id {rid} also at {seen_ids[rid]}")
            seen_ids.setdefault(rid, r["_where"])
            key = normalise(f"{r.get('subject') or ''}\n{r.get('body') or ''}")
            if key in seen_texts:
                errors.append(f"{r['_where']}: same subject+body as {seen_texts[key]}")
            seen_texts.setdefault(key, r["_where"])
    train_bodies = {normalise(r["body"]): r["id"] for r in valid["train"]}
    for r in valid["heldout"]:
        if normalise(r["body"]) in train_bodies:
            errors.append(f"{r['_where']}: body also in train ({train_bodies[normalise(r['body'])]})")
    train_shingles = [(r["id"], shingles(r["body"])) for r in valid["train"]]
    closest = (0.0, None, None)
    for r in valid["heldout"]:
        mine = shingles(r["body"])
        for tid, theirs in train_shingles:
            score = len(mine & theirs) / len(mine | theirs)
            if score > closest[0]:
                closest = (score, r["id"], tid)
            if score >= NEAR_DUPLICATE:
                errors.append(f"{r['_where']}: near-duplicate of train {tid} (similarity {score:.2f})")

    # Counts and the set's requirements.
    everything = valid["train"] + valid["heldout"]
    by_type = Counter(r["type"] for r in everything)
    by_type_heldout = Counter(r["type"] for r in valid["heldout"])
    for t in CONTACT_TYPES:
        if by_type[t] < MIN_PER_TYPE:
            errors.append(f"type {t}: {by_type[t]} examples (at least {MIN_PER_TYPE})")
        if by_type_heldout[t] < MIN_PER_TYPE_HELDOUT:
            errors.append(f"type {t}: {by_type_heldout[t]} held-out examples (at least {MIN_PER_TYPE_HELDOUT})")
    if len(everything) < MIN_TOTAL:
        errors.append(f"{len(everything)} examples (at least {MIN_TOTAL})")
    warnings: list[str] = []
    total = len(everything) or 1
    ru_share = sum(1 for r in everything if r["lang"] == "ru") / total
    heldout_share = len(valid["heldout"]) / total
    if not 0.6 <= ru_share <= 0.8:
        warnings.append(f"ru share {ru_share:.2f} (aimed at about 0.70)")
    if not 0.15 <= heldout_share <= 0.3:  # 0.25 at the split; training contacts were added since
        warnings.append(f"held-out share {heldout_share:.2f} (0.25 at the split, lower as train grows)")
    for t in CONTACT_TYPES:
        for lang in LANGS:
            cell = [r for r in everything if r["type"] == t and r["lang"] == lang]
            share = sum(1 for r in cell if r in valid["heldout"]) / (len(cell) or 1)
            if cell and not 0.1 <= share <= 0.35:
                warnings.append(f"{t}/{lang}: held-out share {share:.2f} (stratified at about 0.25)")
    drift(errors, notes)

    def table(records: list[dict]) -> dict:
        return {t: {lang: sum(1 for r in records if r["type"] == t and r["lang"] == lang) for lang in LANGS}
                for t in CONTACT_TYPES}

    summary = {
        "ok": not errors,
        "files": {split: str(args.dir / f"{split}.jsonl") for split in SPLITS},
        "total": len(everything),
        "by_split": {split: len(valid[split]) for split in SPLITS},
        "type_x_lang": {split: table(valid[split]) for split in SPLITS},
        "by_type": dict(by_type),
        "by_lang": dict(Counter(r["lang"] for r in everything)),
        "by_channel": dict(Counter(r["channel"] for r in everything)),
        "by_urgency": dict(Counter(r["urgency"] for r in everything)),
        "by_category": {t: dict(Counter(r["category"] for r in everything if r["type"] == t))
                        for t in CONTACT_TYPES},
        "with_note": {split: sum(1 for r in valid[split] if "note" in r) for split in SPLITS},
        "with_subject": sum(1 for r in everything if r["subject"] is not None),
        "ru_share": round(ru_share, 3),
        "heldout_share": round(heldout_share, 3),
        "closest_heldout_train_pair": {"similarity": round(closest[0], 3), "heldout": closest[1],
                                       "train": closest[2], "limit": NEAR_DUPLICATE},
        "errors": errors,
        "warnings": warnings,
        "notes": notes,
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
