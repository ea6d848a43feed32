"""SQLite full-text search with each term escaped (see portal.search).

FTS5 reads a doubled quote inside a quoted string as the character itself:
https://www.sqlite.org/fts5.html#fts5_strings
"""

from wagtail.search.backends.database.sqlite.sqlite import (
    SQLiteAutocompleteQueryCompiler,
    SQLiteSearchBackend,
    SQLiteSearchQueryCompiler,
)
from wagtail.search.query import Phrase, PlainText


def fts5_escaped(text: str) -> str:
    return text.replace('"', '""')


class _EscapedTerms:
    def build_search_query_content(self, query, config=None):
        if isinstance(query, PlainText):
            query = PlainText(
                fts5_escaped(query.query_string),
                operator=query.operator,
                boost=query.boost,
            )
        elif isinstance(query, Phrase):
            query = Phrase(fts5_escaped(query.query_string))
        return super().build_search_query_content(query, config=config)


class _SearchCompiler(_EscapedTerms, SQLiteSearchQueryCompiler):
    pass


class _AutocompleteCompiler(_EscapedTerms, SQLiteAutocompleteQueryCompiler):
    pass


class EscapedSQLiteSearchBackend(SQLiteSearchBackend):
    query_compiler_class = _SearchCompiler
    autocomplete_query_compiler_class = _AutocompleteCompiler
