"""Autograder for EECS 182 Discussion 5, "Principles of CNN".

Grading is four phases, each a module: ``execute`` (run the submission in a limited process)
-> ``answers`` (its answers as plain data) -> ``checks`` (one verdict per answer variable)
-> ``report`` (results.json, CSV, feedback). ``worksheet`` and ``mistakes`` hold the worksheet
as data; ``pipeline`` drives the phases; ``cli`` is a thin layer over it.
"""
