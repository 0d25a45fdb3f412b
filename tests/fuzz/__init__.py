"""The fuzzers' parts; the tests themselves are in tests/test_fuzz.py."""
