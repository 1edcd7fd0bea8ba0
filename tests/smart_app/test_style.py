import httpx
import respx

from smart_app.style import fetch_style, sanitise_style, style_sheet


def test_valid_values_become_css_custom_properties() -> None:
    assert sanitise_style(
        {
            "color_background": "#edeae3",
            "color_error": "rgb(255, 0, 0)",
            "color_highlight": "navy",
            "dim_border_radius": "6px",
            "dim_font_size": "1.2rem",
            "font_family_body": "Georgia, Times New Roman, serif",
        }
    ) == {
        "--smart-color-background": "#edeae3",
        "--smart-color-error": "rgb(255, 0, 0)",
        "--smart-color-highlight": "navy",
        "--smart-dim-border-radius": "6px",
        "--smart-dim-font-size": "1.2rem",
        "--smart-font-family-body": "Georgia, Times New Roman, serif",
    }


def test_injection_attempts_are_dropped() -> None:
    hostile = {
        "color_background": "red;} body{display:none",
        "color_text": "url(https://x/track)",
        "dim_font_size": "12px; background:url(x)",
        "font_family_heading": "'Arial'</style><script>",
        "unknown_property": "#fff",
    }
    assert sanitise_style(hostile) == {}
    assert sanitise_style(["not", "an", "object"]) == {}


def test_style_sheet_only_defines_smart_properties() -> None:
    css = style_sheet({"--smart-color-text": "#111", "color": "red"})
    assert css == ":root {\n  --smart-color-text: #111;\n}\n"


async def test_style_is_fetched_only_from_trusted_https_origins() -> None:
    with respx.mock(assert_all_mocked=True) as router:
        route = router.get("https://ehr.example.org/style").mock(
            return_value=httpx.Response(200, json={"color_text": "#222"})
        )
        async with httpx.AsyncClient() as http:
            trusted = ["https://ehr.example.org"]
            got = await fetch_style(
                http,
                "https://ehr.example.org/style",
                trusted_origins=trusted,
                allow_plain_http=False,
            )
            assert got == {"--smart-color-text": "#222"}
            assert (
                await fetch_style(
                    http,
                    "http://ehr.example.org/style",
                    trusted_origins=["http://ehr.example.org"],
                    allow_plain_http=False,
                )
                == {}
            )
            assert (
                await fetch_style(
                    http,
                    "https://cdn.example.net/s",
                    trusted_origins=trusted,
                    allow_plain_http=False,
                )
                == {}
            )
            route.mock(return_value=httpx.Response(500))
            assert (
                await fetch_style(
                    http,
                    "https://ehr.example.org/style",
                    trusted_origins=trusted,
                    allow_plain_http=False,
                )
                == {}
            )
        assert route.call_count == 2
