"""Grading one submission (``pipeline.py``: execute, then check) and a class (``classroom.py``,
``session.py``; ``intake.py`` finds the submissions, ``dask_engine.py`` and ``remote.py`` grade
on a Dask cluster)."""
