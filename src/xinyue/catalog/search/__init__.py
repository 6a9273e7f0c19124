"""The catalog's search engine (DESIGN §7): tokens (``text``, ``plan``), ISBNs (``isbn``), the two
database engines (``backends``: SQLite FTS5 and PostgreSQL tsvector) and highlighting
(``highlight``). Reads go through ``xinyue.catalog.selectors.search.search_titles``; writes
through ``xinyue.catalog.services.indexing``."""
