"""What the learned model reads in a contact: lemmas with negation marked, word pairs, and signals.

Bags of words learn from a few hundred examples only what those examples happen to say. The signals below
carry what a support supervisor knows about the four types regardless of wording, so the model can weigh
them from few examples: a contract named (договор, ИТС, сопровождение, SLA, абонентское) or denied
(«договора нет»), redress and blame (требуем, компенсация, «ваш инженер», «третий раз»), buying (цена, КП,
лицензии, продление), work asked for (an imperative, «прошу», a fault) and a question about something.
Each signal is one more term, so it is weighed by the same training, shown among the top terms in
``explain`` and never decides alone.

A word after a negation becomes ``не_<lemma>``: «не работает» (a fault) and «работает» (thanks, all fine)
are different terms, as are «не срочно» and «срочно».

English function words ("this", "that", "of", "your"…) are no terms on their own (only inside word pairs;
"your" stays the ``__your`` signal): a few hundred English examples gave "this" and "your" the weight of
complaint words, enough to read a real crash report ("this kind of message causes rt to crash") and a
request for quotation as complaints.

A Russian verb in the imperative is counted once more as ``<lemma>!``: «сделайте» (``сделать!``) asks for
work where «можно ли сделать…?» (``сделать``) may only ask whether it can be done, and «верните» says
something else than «вернуть».
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from itertools import chain

from .morphology import NEGATIONS, is_imperative
from .text_match import Text, normalise

#: Lemmas (Russian) and Snowball stems or their prefixes (English, four letters or more) of each signal.
SIGNALS: dict[str, frozenset[str]] = {
    "contract": frozenset({"договор", "итс", "its", "сопровождение", "sla", "абонентский", "абонентка",
                           "contract"}),
    "redress": frozenset({"требовать", "претензия", "жалоба", "жаловаться", "компенсация", "компенсировать",
                          "извинение", "извиниться", "безобразие", "возмутительный", "недопустимый",
                          "неприемлемый", "руководитель", "руководство", "хамить", "нахамить", "грубить",
                          "грубый", "обещать", "обещание", "complaint", "complain", "unacceptable", "apolog",
                          "refund", "escal", "promis", "rude", "disappoint", "compens", "demand", "upset",
                          "angri", "terribl", "worst"}),
    "again": frozenset({"опять", "снова", "третий", "очередной", "повторно", "сей", "ещё", "еще", "again",
                        "third", "still"}),
    "purchase": frozenset({"стоимость", "стоить", "цена", "прайс", "кп", "купить", "покупка", "приобрести",
                           "приобретение", "демо", "демонстрация", "тендер", "лицензия", "продление", "продлить",
                           "тариф", "расширение", "смета", "предложение", "quot", "price", "pricing", "cost",
                           "buy", "purchas", "demo", "tender", "bid", "licenc", "licens", "renew", "plan",
                           "upgrad", "budget", "offer", "скидка", "discount", "retain", "квота"}),
    "enlarge": frozenset({"дополнительный", "добавить", "расширить", "подключить", "новый", "more",
                          "additional", "extra", "extend", "another", "add"}),
    "service": frozenset({"ошибка", "сломаться", "настроить", "обновить", "установить", "подключить",
                          "восстановить", "исправить", "починить", "перенести", "создать", "поправить",
                          "заменить", "зависать", "тормозить", "вылетать", "пропасть", "слететь", "сбиться",
                          "глючить", "перестать", "error", "fix", "setup", "instal", "updat", "restor", "broken",
                          "crash", "fail", "replac", "freez", "stuck", "stop", "miss", "vanish"}),
    "staff": frozenset({"специалист", "инженер", "менеджер", "сотрудник", "курьер", "оператор", "консультант",
                        "программист", "техник", "engineer", "agent", "rep", "staff", "consultant",
                        "technician", "courier", "manag", "employe", "team", "pm"}),
    "billing": frozenset({"счет", "оплата", "оплатить", "задолженность", "акт", "сверка", "платеж", "invoic",
                          "payment", "paid", "bill", "debt"}),
    "documents": frozenset({"документ", "реквизит", "выписка", "копия", "скан", "сертификат", "устав",
                            "справка", "инструкция", "карточка", "document", "certif", "copi", "extract",
                            "instruct", "detail", "scan"}),
    "status": frozenset({"статус", "заявка", "номер", "status", "ticket", "request", "where"}),
    "delay": frozenset({"неделя", "месяц", "день", "давно", "срок", "до", "прошлый", "ждать", "week", "month",
                        "day", "ago", "sinc", "yet", "wait"}),
    "nobody": frozenset({"никто", "ничего", "никакой", "игнорировать", "nobodi", "nobody", "nothing", "noon",
                         "ignor"}),
    "thanks": frozenset({"спасибо", "благодарить", "благодарность", "признательный", "thank", "thanks",
                         "appreci", "grate"}),
    "curious": frozenset({"просто", "интересно", "интересовать", "пока", "теоретический", "понимание", "just",
                          "curious", "wonder", "research"}),
    "anger": frozenset({"ужасный", "ужасно", "безобразие", "издеваться", "надоесть", "бесить", "нельзя",
                        "серьезно", "сколько", "awful", "terribl", "ridicul", "seriously", "fed", "enough"}),
    "question": frozenset({"подсказать", "как", "где", "когда", "вопрос", "уточнить", "ли", "how", "where",
                           "when", "whether", "question", "which", "what"}),
}
_PREFIXES = {name: tuple(w for w in words if len(w) >= 4 and w.isascii()) for name, words in SIGNALS.items()}
_FUNCTION_WORDS = frozenset("the a an this that these those it its of to in on at for with and or but is are was be "
                            "been am i we you he she they our us me my your from by as".split())
_ASK = frozenset({"прошу", "просим", "просьба", "please", "pls", "plz"})
#: «можете ли вы …», «могли бы», "can you", "could you": a request in a question's clothes.
_CAN_YOU = frozenset({("можете", "ли"), ("могли", "бы"), ("можно", "сделать"), ("can", "you"), ("could", "you"),
                      ("would", "you")})
_YOUR = frozenset({"ваш", "ваша", "ваше", "ваши", "вашего", "вашей", "вашему", "вашим", "ваших", "вашу", "your"})
NOT = "не_"
#: The lengths of the character pieces of each word (:func:`pieces`).
PIECES = (2, 4)


@lru_cache(maxsize=100_000)
def _signals_of(term: str) -> tuple[str, ...]:
    negated = term.startswith(NOT)
    base = term[len(NOT):] if negated else term
    return tuple(("__не_" if negated else "__") + name for name, words in SIGNALS.items()
                 if base in words or base.startswith(_PREFIXES[name] or ("\0",)))


def model_terms(text: Text) -> list[str]:
    """Every term the model weighs for one contact (repeats count: term frequency matters)."""
    unigrams: list[str] = []
    after_negation = False
    for word, lemma in zip(text.words, text.lemmas, strict=True):
        base = "<num>" if lemma.isdigit() else lemma
        unigrams.append(NOT + base if after_negation and word not in NEGATIONS else base)
        after_negation = word in NEGATIONS or lemma in NEGATIONS
    terms = [t for t in unigrams if t not in _FUNCTION_WORDS]
    terms += [f"{a} {b}" for a, b in zip(unigrams, unigrams[1:], strict=False)]
    for term in unigrams:
        terms.extend(_signals_of(term))
    imperatives = [lemma for word, lemma in zip(text.words, text.lemmas, strict=True) if is_imperative(word)]
    terms.extend("__imperative" for _ in imperatives)
    terms.extend(lemma + "!" for lemma in imperatives)
    terms.extend("__ask" for w in text.words if w in _ASK)
    terms.extend("__your" for w in text.words if w in _YOUR)
    terms.extend("__can_you" for pair in zip(text.words, text.words[1:], strict=False) if pair in _CAN_YOU)
    if "?" in text.raw:
        terms.append("__question_mark")
    if "!!" in text.raw or "??" in text.raw:
        terms.append("__insistent")
    return terms


def pieces(text: Text) -> list[str]:
    """Character 2–4-grams of every whitespace-separated word, padded with a space at each end (what
    scikit-learn calls ``char_wb``): the second block of the model's input, beside :func:`model_terms`.

    They read what lemmas lose: typos and unknown words («обнавите», «1С-ка»), endings and punctuation
    («?» glued to a word), and English function words, which the terms leave out on their own. Five-fold
    cross-validation on the training file kept them (0.945 against 0.933 with the terms alone, 1,119
    contacts); a supervisor
    sees only their sum in ``explain``, since a piece like «ите» explains nothing by itself.
    """
    out: list[str] = []
    for word in normalise(text.raw).split():
        out.extend(word_pieces(word))
    return out


def piece_counts(text: Text) -> Counter[str]:
    """:func:`pieces` counted, in one pass in C (each word's pieces come from a cache)."""
    return Counter(chain.from_iterable(map(word_pieces, normalise(text.raw).split())))


@lru_cache(maxsize=100_000)
def word_pieces(word: str) -> tuple[str, ...]:
    low, high = PIECES
    padded = f" {word} "
    out: list[str] = []
    for n in range(low, high + 1):
        if len(padded) <= n:
            out.append(padded)  # a short word counts once, whole
            break
        out.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
    return tuple(out)
