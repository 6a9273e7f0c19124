"""Catalog changes: imports, offers, curation, the bookshelf and the search index, by topic in
the sub-modules."""
