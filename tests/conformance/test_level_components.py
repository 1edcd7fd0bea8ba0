from plugin.conformance.level_components import LEVEL_COMPONENTS, ComponentValue
from plugin.terminology import PRODUCT_CODE_SYSTEMS, code_system_url, standard_code


def test_seventeen_components_in_the_contract_order() -> None:
    assert [c.code for c in LEVEL_COMPONENTS] == [
        "level-role",
        "injection-order",
        "technical-result",
        "72514-3",
        "pain-response",
        "pain-location",
        "opening-pressure",
        "onset-pressure",
        "peak-pressure",
        "delta-pressure",
        "onset-volume",
        "total-volume",
        "nucleogram",
        "dallas-grade",
        "contrast-leak",
        "level-category",
        "pressure-sensitivity",
    ]
    assert len({c.slice_name for c in LEVEL_COMPONENTS}) == 17


def test_codes_come_from_the_product_code_system_or_the_mappings() -> None:
    discography = {code for code, _, _ in PRODUCT_CODE_SYSTEMS["discography"].concepts}
    for component in LEVEL_COMPONENTS:
        if component.system == code_system_url("discography"):
            assert component.code in discography
        else:
            assert standard_code("loinc", component.code).system == component.system


def test_values() -> None:
    by_code = {c.code: c for c in LEVEL_COMPONENTS}
    assert by_code["72514-3"].value is ComponentValue.QUANTITY
    assert (by_code["72514-3"].ucum, by_code["72514-3"].maximum) == ("{score}", 10)
    assert (by_code["opening-pressure"].ucum, by_code["opening-pressure"].unit) == ("[psi]", "psi")
    assert by_code["total-volume"].ucum == "mL"
    assert by_code["injection-order"].value is ComponentValue.INTEGER
    assert by_code["injection-order"].minimum == 1
    assert by_code["pain-location"].value is ComponentValue.STRING
    for component in LEVEL_COMPONENTS:
        if component.value is ComponentValue.CODEABLE_CONCEPT:
            assert component.value_set in PRODUCT_CODE_SYSTEMS
    assert {c.code for c in LEVEL_COMPONENTS if c.always_valued} == {
        "level-role",
        "technical-result",
    }
