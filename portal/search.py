"""Wagtail's database search backend, safe with any text a person types.

On SQLite the backend puts each search term between double quotes in an FTS5
query but leaves quotes inside the term as they are, so a search for ``"`` (or
``O"Brien``) was a syntax error and a 500, in the portal's search and in every
admin search alike (portal.sqlite_search escapes them). PostgreSQL passes
terms as parameters and needs nothing; a NUL character never gets this far
(portal.middleware).
"""

from wagtail.search.backends.database import SearchBackend as database_backend


def SearchBackend(params):  # the name Wagtail looks for in a backend module
    """The backend Wagtail's database backend chooses for this database, with
    escaped terms where that is SQLite's full-text search."""
    backend = database_backend(params)
    if type(backend).__name__ == "SQLiteSearchBackend":
        # Imported only here: the module needs SQLite's full-text index model.
        from .sqlite_search import EscapedSQLiteSearchBackend

        return EscapedSQLiteSearchBackend(params)
    return backend
