"""``steward serve``: the scoring service (FastAPI on uvicorn, its own process).

``table`` keeps what serves in memory and swaps versions; ``api`` answers
HTTP; ``metrics`` counts for Prometheus; ``__main__`` runs uvicorn.
"""
