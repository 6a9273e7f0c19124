"""What ordering needs from circulation, which sits above orders in the app order (DESIGN §3):
circulation registers its functions here in its ``AppConfig.ready`` (``core.hooks``); orders
never imports it."""

from __future__ import annotations

from xinyue.core.hooks import Hook

# ``titles_on_loan(reader_ids=, title_ids=) -> set[(reader_id, title_id)]``: which of the titles
# the readers have on an open loan (the duplicate check of a batch of orders, one read).
titles_on_loan: Hook = Hook("orders.titles_on_loan", one=True)
# ``items_shipped(actor=, lines=)``: an item per shipped line (barcode, provenance), in the
# shipping transaction.
items_shipped: Hook = Hook("orders.items_shipped", one=True)
# ``loans_started(actor=, order=, lines=)``: a platform loan per delivered line, in the delivery
# transaction.
loans_started: Hook = Hook("orders.loans_started", one=True)
