"""``NAME_FILE=/run/secrets/name`` gives the setting ``NAME`` the content of that file.

Docker and Kubernetes secrets arrive as files, and a password in a file stays out of ``docker inspect``,
``/proc/<pid>/environ`` and the process listings that an environment variable shows up in. The convention is
the one the official postgres and rabbitmq images follow: for every variable a service reads, the same name
with ``_FILE`` appended names a file whose content (one trailing newline dropped) is the value. Setting both
``NAME`` and ``NAME_FILE`` is refused: which of the two wins would be a guess.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

#: What is appended to a variable's name to name the file holding its value.
FILE_SUFFIX = "_FILE"


def env_names(name: str, info: FieldInfo, prefix: str) -> list[str]:
    """The environment variables a settings field is read from, in the order pydantic-settings tries them."""
    alias = info.validation_alias
    if isinstance(alias, str):
        return [alias]
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices if isinstance(choice, str)]
    return [f"{prefix}{name}".upper()]


def read_secret_file(variable: str, path: str) -> str:
    """The value in ``path``, named by ``variable`` in the error so a missing mount is found at once."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        # The path is no secret; the content never appears in a message.
        raise ValueError(f"{variable}={path}: cannot read the file ({error.strerror})") from None
    return text.removesuffix("\n").removesuffix("\r")


class SecretFilesSource(PydanticBaseSettingsSource):
    """A settings source that reads ``<NAME>_FILE`` for every variable a settings class knows."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        self._prefix = str(settings_cls.model_config.get("env_prefix", ""))

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        for variable in env_names(field_name, field, self._prefix):
            path = _environ().get(variable + FILE_SUFFIX)
            if path:
                if variable in _environ():
                    raise ValueError(f"both {variable} and {variable}{FILE_SUFFIX} are set: keep one")
                return read_secret_file(variable + FILE_SUFFIX, path), variable, False
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, _, is_complex = self.get_field_value(field, field_name)
            if value is not None:
                # Decoded as the environment's value would be (a JSON list or object for complex fields), and
                # given by field name (ServiceSettings sets populate_by_name), whatever alias the field has.
                values[field_name] = self.prepare_field_value(field_name, field, value, is_complex)
        return values


def _environ() -> dict[str, str]:
    # pydantic-settings reads variable names case-insensitively; so does this source.
    return {key.upper(): value for key, value in os.environ.items()}
