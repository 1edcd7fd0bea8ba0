from plugin.conformance.issues import Severity, ValidationIssue


def test_one_line_and_a_problem() -> None:
    issue = ValidationIssue(Severity.WARNING, "Observation.code", "check this", "rule-1")
    assert str(issue) == "warning: Observation.code: check this [rule-1]"
    problem = issue.as_problem()
    assert (problem.field, problem.rule, problem.message) == (
        "Observation.code",
        "rule-1",
        "check this",
    )
