from plugin.writeback.references import placeholders_in, rewrite_references, strip_references

A, B = "urn:uuid:aaaa", "urn:uuid:bbbb"
RESOURCE = {
    "resourceType": "Procedure",
    "subject": {"reference": "Patient/p1"},
    "report": [{"reference": B}],
    "partOf": [{"reference": A, "display": "the study"}, {"reference": "Procedure/other"}],
    "focalDevice": [{"manipulated": {"reference": B}}],
}


def test_placeholders_are_listed_once_in_document_order() -> None:
    assert placeholders_in(RESOURCE) == (B, A)


def test_rewriting_replaces_only_resolved_references_and_copies() -> None:
    rewritten = rewrite_references(RESOURCE, {A: "Procedure/123"})
    assert rewritten["partOf"][0] == {"reference": "Procedure/123", "display": "the study"}
    assert rewritten["report"] == [{"reference": B}]
    assert RESOURCE["partOf"][0]["reference"] == A  # the original is untouched


def test_stripping_drops_list_items_and_emptied_elements() -> None:
    stripped = strip_references(RESOURCE, frozenset({B}))
    assert "report" not in stripped  # its only item went, so did the list
    assert "focalDevice" not in stripped  # {"manipulated": …} emptied, then the list
    assert stripped["partOf"] == RESOURCE["partOf"]
    assert stripped["subject"] == {"reference": "Patient/p1"}


def test_stripping_nothing_changes_nothing() -> None:
    assert strip_references(RESOURCE, frozenset()) == RESOURCE
