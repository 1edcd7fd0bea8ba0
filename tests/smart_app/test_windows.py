"""The window handle in a page's address: moved into `root_path`, so what the app builds from
it stays in the window; cookie changes asked for during the request reach the response."""

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from smart_app.windows import WindowMiddleware, new_window_handle, request_window, window_root


async def where(request: Request) -> JSONResponse:
    window = request_window(request)
    window.set_cookies.append("seen=1; Path=/")
    return JSONResponse(
        {"root": request.scope["root_path"], "handle": window.handle, "app_root": window.app_root}
    )


def client(root_path: str = "") -> httpx.AsyncClient:
    app = WindowMiddleware(Starlette(routes=[Route("/app/where", where)]))
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000")


async def test_the_handle_becomes_part_of_the_root() -> None:
    handle = new_window_handle()
    async with client() as http:
        response = await http.get(f"{window_root(handle)}/app/where")
    assert response.json() == {"root": f"/w/{handle}", "handle": handle, "app_root": ""}
    assert response.headers.get_list("set-cookie") == ["seen=1; Path=/"]


async def test_behind_a_path_prefix_the_window_follows_it() -> None:
    handle = new_window_handle()
    async with client("/discogram") as http:
        response = await http.get(f"/discogram/w/{handle}/app/where")
    assert response.json() == {
        "root": f"/discogram/w/{handle}",
        "handle": handle,
        "app_root": "/discogram",
    }


async def test_an_address_without_a_window_or_with_a_malformed_one() -> None:
    async with client() as http:
        plain = await http.get("/app/where")
        malformed = await http.get("/w/not-a-handle/app/where")
    assert plain.json() == {"root": "", "handle": None, "app_root": ""}
    assert malformed.status_code == 404


def test_handles_are_random_and_url_safe() -> None:
    handles = {new_window_handle() for _ in range(100)}
    assert len(handles) == 100
    assert all(len(h) == 22 and h.replace("-", "").replace("_", "").isalnum() for h in handles)
