"""The two renderings of deploy/k8s every test here reads: the base and the production overlay."""

from __future__ import annotations

from typing import Any

import pytest

from .render import render, renderer

OVERLAYS = ("base", "overlays/production")


@pytest.fixture(scope="session")
def renderings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    build, why = renderer()
    if not build:
        pytest.skip(why)
    return {overlay: render(overlay, tmp_path_factory.mktemp(overlay.replace("/", "-"))) for overlay in OVERLAYS}


@pytest.fixture(scope="session", params=OVERLAYS)
def objects(request: pytest.FixtureRequest, renderings: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each rendering in turn: a test taking it runs once for the base and once for production."""
    return renderings[request.param]
