"""Services of the readers app: one module per area (identity, consents, rights, tokens, cards …)."""
