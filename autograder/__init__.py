"""Autograder for EECS 182 Discussion 5, "Principles of CNN".

Grading is four phases, each a folder: ``execution/`` (run the submission in a limited process)
-> ``answers/`` (its answers as plain data, parsed safely) -> ``checks/`` (one verdict per answer
variable, Q1's and Q2's) -> ``report/`` (results.json, CSVs, feedback, the class report).
``worksheet/`` holds the worksheet as data, ``settings/`` every limit and knob, ``q1/`` Q1's
data and probe, ``grading/`` drives the phases for one submission and a class, ``student/`` is
what students run; ``cli`` is a thin layer over it. Map: docs/maintainers.md.
"""
