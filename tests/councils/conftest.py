from tests.councils.council import council  # noqa: F401  (the fixture)
