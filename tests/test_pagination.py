"""Pagination rules in the catalogue and the runtime's refusal of a half-described walk."""

from __future__ import annotations

from typing import Any

import pytest

from temu_async.catalogue import Catalogue, Field, Paginate, TypeSpec, problems
from temu_async.pagination import paginated


def _listing(pg: Paginate) -> Catalogue:
    return Catalogue(
        types=[
            TypeSpec(
                type="bg.goods.things.get",
                method="things",
                group="goods",
                summary="Things.",
                idempotent=True,
                params=[
                    Field(name="pageToken", type="string"),
                    Field(name="pageNo", type="integer"),
                    Field(name="pageSize", type="integer"),
                ],
                response=[
                    Field(name="items", type="list", items="string"),
                    Field(name="next", type="object", fields=[Field(name="token", type="string")]),
                ],
                paginate=pg,
            )
        ]
    )


@pytest.mark.parametrize(
    ("pg", "says"),
    [
        (Paginate(cursor="pageToken", next="next.token", size="pageSize", items="items"), None),
        (Paginate(page="pageNo", size="pageSize", items="items"), None),
        (Paginate(size="pageSize", items="items"), "paginate needs either `page` or `cursor`"),
        (
            Paginate(
                page="pageNo", cursor="pageToken", next="next.token", size="pageSize", items="items"
            ),
            "paginate needs either `page` or `cursor`",
        ),
        (
            Paginate(cursor="pageToken", size="pageSize", items="items"),
            "`cursor` and `next` go together",
        ),
        (
            Paginate(cursor="cursor", next="next.token", size="pageSize", items="items"),
            "paginate names param 'cursor' that the type lacks",
        ),
        (
            Paginate(cursor="pageToken", next="next.id", size="pageSize", items="items"),
            "paginate names result path 'next.id' that the type lacks",
        ),
    ],
)
def test_paginate_rules(pg: Paginate, says: str | None) -> None:
    found = problems(_listing(pg))
    if says is None:
        assert found == []
    else:
        assert len(found) == 1 and says in found[0], found


def test_the_decorator_refuses_a_walk_it_cannot_do() -> None:
    async def fn(self: Any) -> None:
        return None

    with pytest.raises(TypeError, match="give `page`, or `cursor` with `next_cursor`"):
        paginated(size="size", items=("x",), item=object)(fn)
    with pytest.raises(TypeError, match="give `page`, or `cursor` with `next_cursor`"):
        paginated(cursor="c", size="size", items=("x",), item=object)(fn)
