"""``grader.check("q2a")`` in the student's notebook: the same checks the autograder runs.

The otter test of each question calls ``check_question(question_id, env)``. Answers take the same
road as in grading (encode to plain data, decode, check), so what a student sees here is what the
autograder decides. Q1's programs are probed and checked by the autograder's own code
(``student/q1.py``); only q1b's training is left to the autograder. The first check of a session
whose versions differ from the grader's says once that Gradescope's verdict counts.
"""

from __future__ import annotations

from autograder import answers, worksheet
from autograder.checks import check_variable
from autograder.checks.kinds import checked_by_reading
from autograder.report.results import QuestionResult
from autograder.student import q1, variant, versions

#: Whether this session already showed the version note (it is said once, not at every check).
_said: set[str] = set()


def question_result(question_id: str, env: dict) -> QuestionResult:
    """Check every non-program variable of one question against the names in ``env``."""
    q = worksheet.question(question_id)
    sheet = variant.sheet_for(env)  # the student's own numbers, when the notebook names them
    if sheet is not None:
        q = sheet.graded((q,))[0]
    result = QuestionResult(q.id, q.title)
    programs = [v for v in q.variables if not checked_by_reading(v)]
    if programs:
        result.checks += q1.program_checks(programs, env)
    for variable in q.variables:
        if not checked_by_reading(variable):
            continue
        value = answers.decode(answers.encode(env[variable.name])) if variable.name in env else answers.MISSING
        entries = sheet.entries(variable.name) if sheet is not None else None
        result.checks.append(check_variable(variable, value, entries))
    return result


def version_note_once(note: str | None) -> str | None:
    """``note`` the first time it is asked for in this session, then None."""
    if note is None or note in _said:
        return None
    _said.add(note)
    return note


def check_question(question_id: str, env: dict) -> None:
    """Print the feedback; raise AssertionError (otter's failure signal) unless full marks."""
    result = question_result(question_id, env)
    text = result.feedback()
    note = version_note_once(versions.skew_note())
    if note:
        text = f"{note}\n{text}"
    if result.score < result.max_score:
        raise AssertionError(text)
    print(text)
