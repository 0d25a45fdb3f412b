"""Comment ids: ULIDs that sort in creation order."""

from __future__ import annotations

from moderator.domain import is_comment_id, new_comment_id


def test_ids_made_in_one_millisecond_still_sort_in_order() -> None:
    ids = [new_comment_id(now_ms=1_764_331_200_000) for _ in range(1000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(is_comment_id(i) for i in ids)


def test_ids_sort_by_time() -> None:
    assert new_comment_id(now_ms=1_000) < new_comment_id(now_ms=2_000)
