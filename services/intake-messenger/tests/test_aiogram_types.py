"""aiogram's types and methods built on first use (aiogram_types.py): deferred at import, and every one of
them builds and works when first used, alone or inside another model. Each check runs in a fresh interpreter: in this
one aiogram may already have been imported the usual way."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_types_are_left_to_build_on_first_use() -> None:
    out = run("""
        import priyom_intake_messenger.app
        import aiogram.types as types
        models = [getattr(types, n) for n in types.__all__ if hasattr(getattr(types, n), "model_rebuild")]
        print(sum(not m.__pydantic_complete__ for m in models), len(models))
    """)
    deferred, models = map(int, out.split())
    assert models > 300 and deferred > 100, (deferred, models)


def test_an_update_from_the_bot_api_builds_its_types_inside_the_response() -> None:
    out = run("""
        import priyom_intake_messenger
        from aiogram.methods import GetUpdates
        from aiogram.methods.base import Response
        from aiogram.types import Update
        body = {"ok": True, "result": [{"update_id": 7, "message": {
            "message_id": 3, "date": 1700000000, "chat": {"id": 5, "type": "private", "first_name": "Анна"},
            "from": {"id": 5, "is_bot": False, "first_name": "Анна"}, "text": "Здравствуйте",
            "reply_to_message": {"message_id": 2, "date": 1700000000, "chat": {"id": 5, "type": "private"},
                                 "photo": [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]}}}]}
        response = Response[list[Update]].model_validate(body)
        message = response.result[0].message
        print(message.from_user.first_name, message.text, message.reply_to_message.photo[0].file_id)
        print(GetUpdates(offset=8, timeout=1).model_dump(exclude_none=True))
    """)
    assert out.splitlines() == ["Анна Здравствуйте f", "{'offset': 8, 'timeout': 1}"]


def test_every_type_and_method_builds_when_first_used() -> None:
    # In an event loop, as the service uses them (pydantic looks a few frames up for the caller's namespace).
    out = run("""
        import asyncio
        import priyom_intake_messenger
        import aiogram.methods as methods
        import aiogram.types as types

        async def first_use():
            failed = []
            for module, name in [(m, n) for m in (types, methods) for n in m.__all__]:
                model = getattr(module, name)
                if not hasattr(model, "model_rebuild"):
                    continue
                try:  # pydantic builds a deferred model as its validator and serialiser are reached for
                    model.__pydantic_validator__.validate_python
                    model.__pydantic_serializer__.to_python
                except Exception as exc:
                    failed.append(f"{name}: {exc}")
                if not model.__pydantic_complete__:
                    failed.append(name)
            return failed

        print(asyncio.run(first_use()))
    """)
    assert out.strip() == "[]"
