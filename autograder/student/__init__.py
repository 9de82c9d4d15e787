"""What students get: ``grader.check`` in their notebook (``notebook.py``, ``versions.py``) and
the files ``make assign`` builds for them and for Gradescope (``package.py``)."""
