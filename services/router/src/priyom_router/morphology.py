"""Words as a Russian speaker reads them: lemmas, negation and transliteration, one word at a time.

Snowball stems (:mod:`priyom_router.text_match`) cut endings by rule and miss what Russian changes inside
the word: «пришёл» and «прийти», «шла» and «идти», «лучше» and «хороший». pymorphy3 with the OpenCorpora
dictionary (``pymorphy3-dicts-ru`` from PyPI, no download at run time) gives the dictionary form instead, and
tells an imperative («обновите») from a question («обновляете?»), which is most of the difference between
a request for work and a question about it. Every answer is cached: a support mailbox uses a few thousand
distinct words, so after warm-up a word costs a dictionary look-up.

Customers who type Russian in Latin letters («ne rabotaet 1s») are read too: a message that uses common
Russian words in Latin letters is written back in Cyrillic, word by word where the dictionary knows the word.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import pymorphy3
import snowballstemmer

from .mapped_dawgs import mapped

_CYRILLIC = re.compile(r"[а-я]")
_ENGLISH = snowballstemmer.stemmer("english")

#: Words that turn the meaning of the next word round: «не работает», «нет связи», "not working", "can't".
NEGATIONS = frozenset({
    "не", "ни", "нет", "без", "никак", "not", "no", "never", "without", "nothing", "cannot", "can't", "cant",
    "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "isn't", "isnt", "won't", "wont", "wasn't",
    "aren't", "couldn't", "haven't", "hasn't",
})

# Latin letters to Cyrillic, longest first: the common ways Russians transliterate when typing.
_TRANSLIT = (("shch", "щ"), ("tsya", "тся"), ("tsa", "тся"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"),
             ("yu", "ю"), ("ya", "я"), ("yo", "е"), ("ju", "ю"), ("ja", "я"), ("a", "а"), ("b", "б"),
             ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"), ("y", "ы"), ("k", "к"),
             ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"),
             ("u", "у"), ("f", "ф"), ("h", "х"), ("c", "ц"), ("w", "в"), ("x", "кс"), ("'", "ь"), ("j", "й"))


@cache
def analyzer() -> pymorphy3.MorphAnalyzer:
    """One analyser per process: loading the dictionary takes a few hundred milliseconds. Its DAWGs are
    mapped from the files, not read into the process (:mod:`.mapped_dawgs`)."""
    with mapped():
        return pymorphy3.MorphAnalyzer(lang="ru")


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC.search(word))


@lru_cache(maxsize=100_000)
def lemma(word: str) -> str:
    """The dictionary form of one lower-case word («договору» → «договор», «пришёл» → «прийти»); English
    words get their Snowball stem ("licences" → "licenc"), numbers stay as they are."""
    if is_cyrillic(word):
        return analyzer().parse(word)[0].normal_form.replace("ё", "е")
    if word.isdigit():
        return word
    return _ENGLISH.stemWord(word)


@lru_cache(maxsize=100_000)
def is_imperative(word: str) -> bool:
    """«обновите», «пришлите», «настройте»: the customer asks for something to be done. Any reading counts:
    «обновите» is also «вы обновите» (future), and a customer writing it to us means the request."""
    return is_cyrillic(word) and any(p.tag.mood == "impr" for p in analyzer().parse(word))


def _to_cyrillic(word: str) -> str:
    out, i = [], 0
    while i < len(word):
        for latin, cyrillic in _TRANSLIT:
            if word.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            out.append(word[i])
            i += 1
    text = "".join(out)
    # "dobryi" → «добрыи» → «добрый»; "novyi" likewise; "y" before a vowel is «й» ("rabotayet").
    text = re.sub(r"ы[иы]$", "ый", text)
    return re.sub(r"(?<=[аеиоуя])ы|ы(?=[аоуэе])", "й", text)  # "seychas" → «сейчас», "novyi" → «новый»


#: Words that show a Latin-letter text is Russian typed in Latin ("ne rabotaet", "pozhaluysta"): common,
#: short, and not English words.
_TRANSLIT_MARKERS = frozenset({
    "ne", "na", "eto", "chto", "kak", "mne", "nam", "nas", "vas", "vy", "vam", "ya", "my", "u", "v", "s",
    "pozhaluysta", "pozhalujsta", "zdravstvuyte", "zdravstvuite", "zdravstvujte", "privet", "dobryi", "dobryy",
    "dobriy", "den", "spasibo", "ili", "uzhe", "eshe", "esche", "tozhe", "pochemu", "gde", "kogda", "nuzhno",
    "skolko", "mozhno", "mozhete", "pomogite", "podskazhite", "skazhite", "hotim", "khotim", "nado", "segodnya",
    "zavtra", "seychas", "sejchas", "posle", "oshibka", "rabotaet", "pishet", "dlya", "pri", "bez", "vse",
})
#: Words of a text already judged transliterated that the dictionary test cannot read: too short («a mozhno» →
#: «а можно», "po skladam" → «по складам»), or read as another word ("den" is «ден», "eto" «ето»).
_TRANSLIT_SHORT = {"a": "а", "i": "и", "k": "к", "o": "о", "po": "по", "za": "за", "do": "до", "vo": "во",
                   "ot": "от", "iz": "из", "ob": "об", "so": "со", "ko": "ко", "te": "те", "nu": "ну",
                   "to": "то", "den": "день", "opyat": "опять", "eto": "это", "eta": "эта", "eti": "эти",
                   "etot": "этот", "ego": "его"}
_LATIN_TOKEN = re.compile(r"[A-Za-z']+")


#: Markers that are also English, or a unit or a letter of a model name ("my", "2U", "Mbit/s"): they are
#: written back in a transliterated text but do not show that a text is one.
_WEAK_MARKERS = frozenset({"my", "u", "v", "s", "ya"})


def _is_transliterated(text: str) -> bool:
    words = [w.lower() for w in _LATIN_TOKEN.findall(text)]
    return len(words) >= 3 and sum(w in _TRANSLIT_MARKERS and w not in _WEAK_MARKERS for w in words) >= 2


def _candidates(cyrillic: str) -> list[str]:
    """Spellings to look up, most literal first: what typing in Latin letters most often leaves out is a
    soft sign («rabotat», «skolko», «aktualnaya»), «щ» written "sh" («eshe») and «э» at the start («eto»)."""
    out = [cyrillic, cyrillic + "ь", cyrillic.replace("ш", "щ"), cyrillic.replace("щ", "сч"),
           re.sub(r"л(?=[бвгджзклмнпрстфхцчшщ])", "ль", cyrillic)]
    if cyrillic.startswith("е"):
        out.append("э" + cyrillic[1:])
    if "й" in cyrillic:  # "rezervnye" is «резервные», not «резервнйе»
        out += [c.replace("й", "ы") for c in out]
    return out


@lru_cache(maxsize=100_000)
def _cyrillic_word(word: str) -> str:
    lower = word.lower()
    if lower in _TRANSLIT_SHORT:
        return _TRANSLIT_SHORT[lower]
    cyrillic = _to_cyrillic(lower)
    if lower in _TRANSLIT_MARKERS and len(cyrillic) < 3:
        return cyrillic
    for candidate in _candidates(cyrillic):
        if len(candidate) >= 3 and analyzer().word_is_known(candidate):
            return candidate
    return cyrillic if lower in _TRANSLIT_MARKERS else word


def cyrillic_reading(text: str) -> str:
    """Russian typed in Latin letters, written back in Cyrillic word by word where the dictionary knows the
    word («ne rabotaet 1s» → «не работает 1s»); any other text unchanged. A whole message is judged at once,
    so an English "no" or "bank" is never turned into Russian."""
    if not text or not _is_transliterated(text):
        return text
    return _LATIN_TOKEN.sub(lambda m: _cyrillic_word(m.group()), text)
