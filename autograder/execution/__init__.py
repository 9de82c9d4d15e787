"""Running untrusted code: the student's notebook runs in a sandboxed process (``sandbox.py``,
``runner.py``) inside limits enforced from outside it (``budget.py``, ``machine.py``);
``execute.py`` drives one run and ``cache.py`` keeps runs for checks-only regrades."""
