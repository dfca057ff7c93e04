"""Stems, stopwords and snippets, without I/O: what the SQLite index and every query are made of."""

from __future__ import annotations

from priyom_portal.markdown_render import plain_text, render_markdown
from priyom_portal.word_stems import query_stems, snippet, stemmed_text


def test_inflections_meet_on_one_stem() -> None:
    assert query_stems("принтеры не печатают") == query_stems("Принтер не печатает") == ["принтер", "печата"]
    assert query_stems("Printers are not printing") == ["printer", "print"]
    assert stemmed_text("Ёлка ёлки") == stemmed_text("елка елки")
    assert query_stems("не как и the") == []


def test_a_snippet_starts_near_the_first_matching_word() -> None:
    text = (
        "Вступление о том, как устроена служба поддержки и зачем она нужна. " * 4
        + "Если принтер не печатает, проверьте бумагу. "
        + "Заключение. " * 20
    )
    piece = snippet(text, "принтеры", width=120)
    assert piece.startswith("…") and piece.endswith("…") and "принтер не печатает" in piece
    assert len(piece) <= 122
    assert snippet("Короткий текст.", "принтер") == "Короткий текст."


def test_markdown_is_sanitised_and_its_text_kept_apart() -> None:
    html = render_markdown(
        'Текст<img src=x onerror=alert(1)> ![a](https://x.example/a.png "t")\n\n'
        "[x](data:text/html;base64,AAAA)"
    )
    assert "<img src=x" not in html and "&lt;img src=x onerror" in html  # raw HTML is shown as text
    assert 'href="data:' not in html
    assert '<img src="https://x.example/a.png" alt="a" title="t">' in html
    assert plain_text("<p>один</p><p>два &amp; три</p>") == "один два & три"
