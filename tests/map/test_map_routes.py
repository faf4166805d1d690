"""The map's HTTP surface: boot tags on /map, data URLs (latest + ETag, versioned), status, worker scripts,
and the first Dash layout carrying the page being opened (no router round trip)."""
from __future__ import annotations

import json

import orjson

from callbacks.map import BOOT_URL, DEFERRED_META, LATEST_URLS, OPENING_URL, WORKER_URL, cluster_options
from components.map_view import CLUSTER_MAX_ZOOM, CLUSTER_RADIUS, DEFAULT_ZOOM
from data.map_queries import CACHE


def test_map_page_starts_downloads_and_worker_before_dash(map_client):
    html = map_client.get("/map").get_data(as_text=True)
    head = html[html.index("<head"):html.index("</head>")]
    first_css = head.index('rel="stylesheet"')
    for url in (*LATEST_URLS.values(), OPENING_URL):
        assert head.index(f'<link rel="preload" href="{url}" as="fetch" crossorigin="anonymous">') < first_css
    assert head.index(f'<script src="{BOOT_URL}"></script>') < first_css
    other = map_client.get("/").get_data(as_text=True)
    assert BOOT_URL not in other and "preload" not in other  # other pages are untouched


def test_map_page_defers_the_libraries_it_does_not_draw_with(map_client):
    html = map_client.get("/map").get_data(as_text=True)
    other = map_client.get("/").get_data(as_text=True)
    for library in ("dash_ag_grid", "dash_socketio", "live_push.js"):
        assert library in other
        assert not any(library in tag.split(">", 1)[0] for tag in html.split("<script")[1:]), library  # none on /map
    meta = html.split(f'<meta name="{DEFERRED_META}" content="', 1)[1].split('">', 1)[0]
    listed = json.loads(meta.replace("&quot;", '"'))
    assert [u for u in listed if "dash_ag_grid" in u] and [u for u in listed if "dash_socketio" in u]
    assert all(f'<script src="{u}"></script>' in other for u in listed)  # the same URLs other pages load
    assert "dash_leaflet" in html and "dash_bootstrap_components" in html  # what the map draws with stays


def test_latest_data_is_the_current_version_and_revalidates(map_client, map_fleet):
    version = CACHE.data(map_fleet.db).version
    first = map_client.get(LATEST_URLS["pointsUrl"])
    assert first.status_code == 200 and first.headers["X-Fleet-Map-Version"] == version
    assert first.headers["Cache-Control"] == "private, no-cache" and first.headers["ETag"]
    assert first.data == CACHE.data(map_fleet.db).geobuf()
    again = map_client.get(LATEST_URLS["pointsUrl"], headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    cols = map_client.get(LATEST_URLS["columnsUrl"])
    assert orjson.loads(cols.data)["version"] == version
    pinned = map_client.get(f"/_map/{version}/points.pbf")
    assert "immutable" in pinned.headers["Cache-Control"]
    stale = map_client.get("/_map/not-a-version/points.pbf")  # an old page's URL: current data, not cached as old
    assert stale.status_code == 200 and "immutable" not in stale.headers["Cache-Control"]


def test_status_json_is_live_and_not_stored(map_client):
    response = map_client.get(LATEST_URLS["statusUrl"])
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    doc = json.loads(response.data)
    assert doc["sites"]["m-sol"][0] == "producing" and abs(doc["sites"]["m-sol"][1] - 3.0) < 1e-6


def test_opening_view_is_served_once_the_server_has_indexed(map_client, map_fleet):
    import time

    from callbacks.map import CLUSTER_MAX_ZOOM as MAX_ZOOM
    from callbacks.map import CLUSTER_RADIUS as RADIUS

    data = CACHE.data(map_fleet.db)
    first = map_client.get(OPENING_URL)  # not indexed yet: the page's worker does it all; indexing starts
    if first.status_code == 204:
        deadline = time.monotonic() + 10
        while data.cluster_index(RADIUS, MAX_ZOOM, build=False) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    response = map_client.get(OPENING_URL)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    view = orjson.loads(response.data)
    assert view["version"] == data.version == response.headers["X-Fleet-Map-Version"]
    assert view["zoom"] == DEFAULT_ZOOM and view["statusTs"]
    items = view["items"]
    assert sum(it["n"] if it["c"] else 1 for it in items) == 10  # every point on the map, once
    status = orjson.loads(map_client.get(LATEST_URLS["statusUrl"]).data)
    assert view["statusTs"] == status["ts"]  # the same status reading as the worker's


def test_worker_and_boot_scripts(map_client):
    worker = map_client.get(WORKER_URL)
    text = worker.get_data(as_text=True)
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert "Supercluster" in text and "geobuf" in text and "Pbf" in text and "computeAgg" in text
    assert map_client.get(WORKER_URL, headers={"If-None-Match": worker.headers["ETag"]}).status_code == 304
    boot = map_client.get(BOOT_URL).get_data(as_text=True)
    config = json.loads(boot.split("window.fleetMapBootConfig = ", 1)[1].split(";\n", 1)[0])
    assert config["options"] == cluster_options()
    assert config["options"]["radius"] == CLUSTER_RADIUS and config["options"]["maxZoom"] == CLUSTER_MAX_ZOOM
    assert config["options"]["initial"]["zoom"] == DEFAULT_ZOOM  # the worker answers the opening view with "ready"
    assert config["urls"] == LATEST_URLS and config["openingUrl"] == OPENING_URL
    assert config["colors"]["offline"] and config["colors"]["producing"]  # the first markers need no Dash callback
    source = json.loads(boot.split("window.fleetMapWorkerSource = ", 1)[1].split(";\n", 1)[0])
    assert source == text  # the worker started from a Blob is the same script


def test_map_data_needs_sign_in(client, map_fleet):
    for url in (*LATEST_URLS.values(), OPENING_URL, WORKER_URL, BOOT_URL):
        response = client.get(url)
        assert response.status_code in (302, 401), url
        assert response.status_code == 401 or "/login" in response.headers["Location"]


def _layout(client, referer: str | None):
    headers = {"Referer": referer} if referer else {}
    return client.get("/_dash-layout", headers=headers).get_data(as_text=True)


def _find(node, ident: str):
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == ident:
            return node
        for value in node.values():
            hit = _find(value, ident)
            if hit is not None:
                return hit
    elif isinstance(node, list):
        for value in node:
            hit = _find(value, ident)
            if hit is not None:
                return hit
    return None


def test_first_layout_carries_the_page_being_opened(map_client):
    layout = json.loads(_layout(map_client, "http://localhost/map?x=1"))
    location = _find(layout, "_pages_location")["props"]
    assert (location["pathname"], location["search"], location["hash"]) == ("/map", "?x=1", "")
    assert _find(layout, "_pages_content")["props"]["children"] is not None
    assert _find(layout, "map-map") is not None
    assert _find(layout, "_pages_store")["props"]["data"] == {"title": "Fleet map · Fleetlight"}
    # no Referer, another host, or a path with no page: Dash's router fills the page as usual
    for referer in (None, "http://elsewhere.example/map", "http://localhost/no-such-page"):
        plain = json.loads(_layout(map_client, referer))
        assert _find(plain, "map-map") is None and "pathname" not in _find(plain, "_pages_location")["props"]


def test_first_layout_respects_page_roles(map_client):
    import dash

    admin_pages = [p["path"] for p in dash.page_registry.values()
                   if p.get("min_role") == "admin" and "<" not in p["path"]]
    assert admin_pages
    layout = _layout(map_client, f"http://localhost{admin_pages[0]}")
    assert '"sec-denied"' in layout  # the viewer gets the guard's panel, as through the router
