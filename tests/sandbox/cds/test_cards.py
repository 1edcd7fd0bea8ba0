"""The service's response as the EHR page shows it: indicators spelled out, Markdown reduced
to safe structures, only a smart link to the registered app offered as a launch."""

from __future__ import annotations

from plugin.sandbox.cds.cards import card_views, markdown_blocks, system_action_views
from plugin.sandbox.cds.client import CdsExchange
from plugin.sandbox.cds.request import DiscographyOrder, Hook
from plugin.sandbox.pages import _ENVIRONMENT

LAUNCH = "http://127.0.0.1:8000/launch"


def _card(**kw: object) -> dict[str, object]:
    card: dict[str, object] = {
        "summary": "Discography not advised",
        "indicator": "critical",
        "source": {"label": "Discography candidacy"},
        "detail": "**Not a candidate**\n\n- pregnant\n- <script>x</script> L\\&I",
        "suggestions": [{"label": "Order a pregnancy test"}],
        "overrideReasons": [{"code": "x", "display": "Documented elsewhere"}],
        "links": [
            {"label": "Open the app", "url": LAUNCH, "type": "smart", "appContext": '{"a":1}'},
            {"label": "Elsewhere", "url": "http://evil.example/launch", "type": "smart"},
            {"label": "Bad", "url": "javascript:alert(1)", "type": "absolute"},
        ],
    }
    card.update(kw)
    return card


def test_markdown_becomes_paragraphs_lists_and_bold() -> None:
    (paragraph, bullets) = markdown_blocks("**Bold** text\n\n- one\n* **two** x")
    assert paragraph.kind == "paragraph"
    assert paragraph.lines == ((("Bold", True), (" text", False)),)
    assert bullets.kind == "list"
    assert bullets.lines == ((("one", False),), (("two", True), (" x", False)))


def test_cards_keep_their_fields_and_only_our_app_is_launchable() -> None:
    (card,) = card_views({"cards": [_card()]}, LAUNCH)
    assert (card.indicator, card.indicator_label) == ("critical", "Critical")
    assert card.suggestions == ("Order a pregnancy test",)
    assert card.override_reasons == ("Documented elsewhere",)
    ours, other, bad = card.links
    assert ours.launchable and ours.app_context == '{"a":1}'
    assert not other.launchable
    assert not bad.safe_href


def test_the_page_escapes_everything_the_service_sent() -> None:
    (card,) = card_views({"cards": [_card(summary="<b>x</b>")]}, LAUNCH)
    html = _ENVIRONMENT.get_template("cds_cards.html").render(
        order=DiscographyOrder("p", "u", "62290", ("L4-L5",), Hook.ORDER_SIGN, send_prefetch=True),
        failure=None,
        exchange=CdsExchange("s", "S", {}, 200),
        cards=(card,),
        system_actions=system_action_views(
            {
                "systemActions": [
                    {
                        "type": "update",
                        "description": "d",
                        "resource": {"resourceType": "ServiceRequest", "id": "1"},
                    }
                ]
            }
        ),
        csrf_token="t",
    )
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>x</b>" not in html
    assert "<strong>Not a candidate</strong>" in html
    assert "L&amp;I" in html
    assert 'href="javascript:' not in html
    assert 'name="app_context" value="{&#34;a&#34;:1}"' in html
    assert "ServiceRequest/1" in html
    assert "Critical" in html
