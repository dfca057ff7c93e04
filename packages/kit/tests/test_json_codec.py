"""JSON through orjson (``priyom_kit.json_codec``): the bus bodies (faststream's and fast_depends' own choice, once
orjson is installed) and the databases' JSON columns, on SQLite and PostgreSQL, reading and writing what the
standard library's codec did, including what orjson alone refuses."""

from __future__ import annotations

import json
import math

import fast_depends.pydantic._compat as fast_depends_json
import faststream._internal._compat as faststream_json
import orjson
import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, select, text

from priyom_kit import json_codec
from priyom_kit.db import make_engine

metadata = MetaData()
documents = Table("documents", metadata, Column("id", Integer, primary_key=True), Column("body", JSON))


def test_faststream_encodes_and_decodes_bus_bodies_with_orjson() -> None:
    # Both libraries pick orjson at import when it is there, and fall back to the standard library silently.
    assert faststream_json.json_dumps is orjson.dumps
    assert faststream_json.json_loads is orjson.loads
    assert fast_depends_json.json_dumps is orjson.dumps


@pytest.mark.parametrize("value", [
    {"name": "Клиент «Ромашка»", "n": 3, "ok": True, "none": None, "list": [1.5, "x", {"nested": []}]},
    {1: "int key", "2": "str key"},
    {"big": 2**70, "negative": -(2**65)},
    [],
    "plain",
])
def test_what_it_writes_reads_back_as_the_standard_library_reads_it(value: object) -> None:
    written = json_codec.dumps(value)
    assert json.loads(written) == json.loads(json.dumps(value))
    assert json_codec.loads(written) == json.loads(json.dumps(value))
    assert json_codec.loads(written.encode()) == json.loads(json.dumps(value))


def test_what_the_standard_library_wrote_reads_back_even_where_orjson_refuses() -> None:
    read = json_codec.loads(json.dumps({"score": float("nan"), "top": float("inf")}))
    assert math.isnan(read["score"])
    assert read["top"] == float("inf")


def test_what_neither_reads_or_writes_still_raises() -> None:
    with pytest.raises(json.JSONDecodeError):
        json_codec.loads("{not json")
    with pytest.raises(TypeError):
        json_codec.dumps({"a set": {1, 2}})


async def test_json_columns_go_through_the_codec_on_both_dialects(database_url: str) -> None:
    engine = make_engine(database_url)
    assert engine.dialect._json_serializer is json_codec.dumps  # type: ignore[attr-defined]
    assert engine.dialect._json_deserializer is json_codec.loads  # type: ignore[attr-defined]
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            values = [{"name": "Клиент", 7: ["a", 2**70]}, {"ok": [True, None, 1.25]}]
            await connection.execute(documents.insert(), [{"id": i, "body": v} for i, v in enumerate(values)])
            if engine.dialect.name == "sqlite":
                # A row the standard library's encoder wrote before: NaN is its extension to JSON, which only
                # SQLite stores (PostgreSQL's json type refuses it).
                await connection.execute(text("INSERT INTO documents (id, body) VALUES (9, :body)"),
                                         {"body": json.dumps({"score": float("nan")})})
            rows = {row.id: row.body for row in await connection.execute(select(documents.c.id, documents.c.body))}
        assert rows[0] == {"name": "Клиент", "7": ["a", 2**70]}
        assert rows[1] == {"ok": [True, None, 1.25]}
        if engine.dialect.name == "sqlite":
            assert math.isnan(rows[9]["score"])
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.drop_all)
        await engine.dispose()
