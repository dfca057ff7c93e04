"""An optional extra that is not installed is named, with the command that installs it, at the first use."""

from __future__ import annotations

import importlib
import sys

import pytest


def test_s3_blobs_without_the_s3_extra_say_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiobotocore.session", None)  # as if aiobotocore were not installed
    monkeypatch.delitem(sys.modules, "priyom_kit.s3_blobs", raising=False)
    with pytest.raises(ImportError, match=r"PRIYOM_BLOB_S3_BUCKET .* pip install 'priyom-kit\[s3\]'"):
        importlib.import_module("priyom_kit.s3_blobs")
