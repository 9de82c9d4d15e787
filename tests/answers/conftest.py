"""The reading policy "explain" (issue 31): maths notation is told what to write, never read."""

import pytest

from autograder.answers import reading
from autograder.settings.reading import Reading


@pytest.fixture
def explain_policy(monkeypatch):
    monkeypatch.setattr(reading, "SETTINGS", Reading(policy="explain"))
