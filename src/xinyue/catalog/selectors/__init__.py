"""Reads of the catalog: titles and search (engine), the portal's pages (``portal``)."""
