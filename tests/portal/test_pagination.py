"""GOV.UK pagination: the first and last pages, two either side of the
current one, and an ellipsis for the pages left out."""

import re

from django.core.paginator import Paginator
from django.template.loader import render_to_string


def _shown(count: int, number: int) -> list[str]:
    page = Paginator(range(count), 25).get_page(number)
    html = render_to_string("includes/pagination.html", {"page": page})
    items = re.findall(r'<li class="govuk-pagination__item[^"]*">(.*?)</li>', html)
    return ["..." if item == "&ctdot;" else re.sub(r"<[^>]+>", "", item)
            for item in items]  # fmt: skip


def test_a_deep_page_of_a_long_list():
    assert _shown(20_000, 200) == ["1", "...", "198", "199", "200", "201", "202",
                                   "...", "800"]  # fmt: skip


def test_the_first_page_and_a_short_list():
    assert _shown(20_000, 1) == ["1", "2", "3", "...", "800"]
    assert _shown(75, 2) == ["1", "2", "3"]


def test_the_current_page_is_marked_for_screen_readers():
    page = Paginator(range(100), 25).get_page(3)
    html = render_to_string("includes/pagination.html", {"page": page})
    assert 'aria-label="Page 3" aria-current="page"' in html
    assert html.count('aria-current="page"') == 1


def test_one_page_shows_no_pagination():
    page = Paginator(range(10), 25).get_page(1)
    assert "govuk-pagination" not in render_to_string(
        "includes/pagination.html", {"page": page}
    )
