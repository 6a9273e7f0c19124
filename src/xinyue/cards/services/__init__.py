"""Card changes: issuing, suspending and cancelling cards, manual reviews (``issuing``), and
linking cards readers already hold (``linking``)."""
