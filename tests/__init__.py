"""The test suite. Its shared modules get pytest's assertion rewriting too, as test
modules do: a failing assert in a helper shows the values it compared."""

import pytest

pytest.register_assert_rewrite("tests.fakes", "tests.helpers", "tests.fuzz")
