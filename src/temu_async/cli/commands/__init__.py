"""One module per ``temu-async`` command; each is listed once in :mod:`..registry`."""
