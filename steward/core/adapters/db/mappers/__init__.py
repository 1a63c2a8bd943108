"""Rows to entities, one module per area: the one place that says what a table's columns mean.

Services load rows (through :mod:`steward.core.adapters.db.queries` where a
query is shared) and hand entities out; the mapping itself is here, so two
services never disagree on what a column means. Mappers run no queries: what
they need beyond the row (an environment, version numbers, approvals) is
passed in, so a caller that loads many rows loads their neighbours in one
statement each.
"""
