"""A model file that ``make train-router`` may rewrite while the router runs: read again when it changes."""

from __future__ import annotations

from pathlib import Path

from priyom_kit import get_logger

from .learned import ContactModel, Guess, load_model
from .text_match import Text

log = get_logger("priyom.router.learned")


class ModelFile:
    """The model in ``path``, loaded again when the file changes: a ``make train-router`` that learned from
    the latest corrections takes effect at the next contact, without a restart. A file that cannot be
    loaded (half written, say) leaves the previous model answering and is tried again when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._model: ContactModel | None = None
        self._refresh()
        if self._model is None:
            raise FileNotFoundError(f"no usable model at {path}")

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
        except OSError:
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            self._model = load_model(self.path)
            log.info("classifier model loaded", path=str(self.path))
        except Exception as exc:  # noqa: BLE001 - any unreadable file: keep answering with the previous model
            log.error("classifier model not loaded, keeping the previous one", error=f"{type(exc).__name__}: {exc}"[:300])

    def __call__(self, text: Text) -> Guess:
        self._refresh()
        assert self._model is not None
        return self._model(text)
