"""Tally's HTTP API: the public log contract of specs/http.md, served with FastAPI."""
