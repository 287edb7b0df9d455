"""`sorter review`: the review server, its page and what a correction does (see server.py)."""
