import pytest

from plugin.conformance.r4_model import (
    ElementKind,
    choice_stem,
    choice_types,
    element_in_r4,
    is_resource_type,
    json_kind,
)


def test_element_kinds_and_where_children_live() -> None:
    status = element_in_r4("Observation", "status")
    assert status is not None and (status.kind, status.type_code) == (ElementKind.PRIMITIVE, "code")
    component = element_in_r4("Observation", "component")
    assert component is not None and component.kind is ElementKind.BACKBONE
    assert component.children_context == "Observation.component"
    value = element_in_r4("Observation.component", "valueQuantity")
    assert value is not None and (value.kind, value.children_context) == (
        ElementKind.COMPLEX,
        "Quantity",
    )
    entry_resource = element_in_r4("Bundle.entry", "resource")
    assert entry_resource is not None and entry_resource.kind is ElementKind.RESOURCE


def test_content_reference_points_at_the_defining_backbone() -> None:
    ranges = element_in_r4("Observation.component", "referenceRange")
    assert ranges is not None and ranges.children_context == "Observation.referenceRange"


def test_inherited_elements_are_found_through_the_parent_type() -> None:
    assert element_in_r4("Age", "value") is not None  # Age is a Quantity
    assert element_in_r4("Observation", "id") is not None


@pytest.mark.parametrize(
    ("context", "name"),
    [
        ("Extension", "valueRatioRange"),  # R4B
        ("Extension", "valueCodeableReference"),  # R4B
        ("Observation", "colour"),
        ("Observation.component", "status"),
    ],
)
def test_elements_r4_lacks(context: str, name: str) -> None:
    assert element_in_r4(context, name) is None


def test_extension_meta_is_r4_only_and_present() -> None:
    assert element_in_r4("Extension", "valueMeta") is not None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Observation", True),
        ("Bundle", True),
        ("Parameters", True),
        ("Citation", False),  # R4B
        ("SubscriptionTopic", False),  # R4B
        ("Quantity", False),
        ("Resource", False),
        ("DomainResource", False),
        ("Foo", False),
    ],
)
def test_resource_types(name: str, expected: bool) -> None:
    assert is_resource_type(name) is expected


def test_choices() -> None:
    assert choice_stem("Observation.valueQuantity") == "Observation.value"
    assert choice_stem("Observation.status") is None
    assert choice_types("Observation.effective") == ("DateTime", "Period", "Timing", "Instant")
    assert choice_types("Observation.status") == ()


def test_json_kinds() -> None:
    assert json_kind("boolean") is bool
    assert json_kind("positiveInt") is int
    assert json_kind("decimal") == (int, float)
    assert json_kind("dateTime") is str
