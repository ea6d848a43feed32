"""Derived work asked for several times in one merged block runs once, at its
end, inside the caller's transaction; outside a block it runs at once."""

import pytest

from portal.derived import derived_work, derived_work_merged


def test_outside_a_block_the_work_runs_at_once():
    done = []
    derived_work("a", lambda: done.append("a"))
    assert done == ["a"]


def test_in_a_block_each_key_runs_once_at_the_end_in_first_asked_order():
    done = []
    with derived_work_merged():
        derived_work("a", lambda: done.append("a1"))
        derived_work("b", lambda: done.append("b"))
        derived_work("a", lambda: done.append("a2"))
        assert done == []
    assert done == ["a2", "b"]


def test_a_nested_block_joins_the_outer_one():
    done = []
    with derived_work_merged():
        with derived_work_merged():
            derived_work("a", lambda: done.append("a"))
        assert done == []
        derived_work("a", lambda: done.append("a again"))
    assert done == ["a again"]


def test_a_block_left_by_an_exception_runs_nothing():
    done = []
    with pytest.raises(RuntimeError), derived_work_merged():
        derived_work("a", lambda: done.append("a"))
        raise RuntimeError
    assert done == []
    derived_work("b", lambda: done.append("b"))
    assert done == ["b"]


def test_work_asked_for_by_the_work_itself_runs_at_once():
    done = []

    def first():
        done.append("first")
        derived_work("second", lambda: done.append("second"))

    with derived_work_merged():
        derived_work("first", first)
    assert done == ["first", "second"]
