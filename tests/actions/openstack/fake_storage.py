"""The fake's Cinder (volumes, backups) and Glance (images)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.actions.openstack.fake_common import (
    PROJECT_ID,
    FakeState,
    fault,
    fault_error,
    new_backup,
)

CINDER = f"/volume/v3/{PROJECT_ID}"
PAGING = ("limit", "marker", "sort", "offset")


class CinderApi:
    """Cinder's block storage API v3: volumes and backups."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    def add_routes(self, app: web.Application) -> None:
        """Serve under /volume."""
        router = app.router
        router.add_get("/volume", self.versions)
        router.add_get("/volume/", self.versions)
        for path in ("/volume/v3", "/volume/v3/", CINDER, f"{CINDER}/"):
            router.add_get(path, self.version)
        router.add_get(f"{CINDER}/volumes", self.list_volumes)
        router.add_get(f"{CINDER}/volumes/detail", self.list_volumes)
        router.add_get(f"{CINDER}/volumes/{{id}}", self.show_volume)
        router.add_get(f"{CINDER}/backups", self.list_backups)
        router.add_get(f"{CINDER}/backups/detail", self.list_backups)
        router.add_post(f"{CINDER}/backups", self.create_backup)
        router.add_get(f"{CINDER}/backups/{{id}}", self.show_backup)
        router.add_delete(f"{CINDER}/backups/{{id}}", self.delete_backup)

    def _version(self) -> dict[str, Any]:
        return {
            "id": "v3.0",
            "status": "CURRENT",
            "version": "3.71",
            "min_version": "3.0",
            "updated": "2023-08-31T00:00:00Z",
            "links": [{"rel": "self", "href": f"{self.state.base}/volume/v3/"}],
        }

    def _shown(self, item: dict[str, Any]) -> dict[str, Any]:
        if item.get("status") == "creating":
            item["_polls"] += 1
            if item["_polls"] > self.state.build_polls:
                self._created(item)
        return {k: v for k, v in item.items() if not k.startswith("_")}

    def _created(self, backup: dict[str, Any]) -> None:
        if backup["volume_id"] in self.state.failing_volumes:
            reason = "Failed to back up volume: the backup driver's storage is unreachable."
            backup.update(status="error", fail_reason=reason)
        else:
            backup["status"] = "available"

    @staticmethod
    def _filtered(items: list[dict[str, Any]], request: web.Request) -> list[dict[str, Any]]:
        filters = {k: v for k, v in request.query.items() if k not in PAGING}
        found = [i for i in items if all(str(i.get(k)) == v for k, v in filters.items())]
        key, _, direction = request.query.get("sort", "").partition(":")
        if key:
            found.sort(key=lambda i: str(i.get(key)), reverse=direction != "asc")
        return found

    async def versions(self, _: web.Request) -> web.Response:
        """GET /volume/: 300 Multiple Choices, as Cinder answers."""
        return web.json_response({"versions": [self._version()]}, status=300)

    async def version(self, _: web.Request) -> web.Response:
        """GET /volume/v3/."""
        return web.json_response({"versions": [self._version()]})

    async def list_volumes(self, request: web.Request) -> web.Response:
        """GET /volumes[/detail]."""
        found = self._filtered(list(self.state.volumes.values()), request)
        return web.json_response({"volumes": found})

    async def show_volume(self, request: web.Request) -> web.Response:
        """GET /volumes/{id}."""
        volume = self.state.volumes.get(request.match_info["id"])
        if volume is None:
            message = f"Volume {request.match_info['id']} could not be found."
            raise fault_error(404, "itemNotFound", message)
        return web.json_response({"volume": volume})

    async def list_backups(self, request: web.Request) -> web.Response:
        """GET /backups[/detail]; each read moves a creating backup towards available."""
        found = self._filtered(list(self.state.backups.values()), request)
        return web.json_response({"backups": [self._shown(b) for b in found]})

    async def create_backup(self, request: web.Request) -> web.Response:
        """POST /backups: 202; the backup starts as creating."""
        body = (await request.json())["backup"]
        if body.get("volume_id") not in self.state.volumes:
            message = f"Volume {body.get('volume_id')} could not be found."
            return fault(404, "itemNotFound", message)
        backup = new_backup(self.state, body)
        self.state.backups[backup["id"]] = backup
        brief = {"id": backup["id"], "name": backup["name"], "links": []}
        return web.json_response({"backup": brief}, status=202)

    def _backup(self, request: web.Request) -> dict[str, Any]:
        backup = self.state.backups.get(request.match_info["id"])
        if backup is None:
            message = f"Backup {request.match_info['id']} could not be found."
            raise fault_error(404, "itemNotFound", message)
        return backup

    async def show_backup(self, request: web.Request) -> web.Response:
        """GET /backups/{id}."""
        return web.json_response({"backup": self._shown(self._backup(request))})

    async def delete_backup(self, request: web.Request) -> web.Response:
        """DELETE /backups/{id}: only an available (or failed) backup."""
        backup = self._backup(request)
        if backup["status"] not in ("available", "error"):
            message = "Invalid backup: Backup status must be available or error."
            return fault(400, "badRequest", message)
        del self.state.backups[backup["id"]]
        return web.Response(status=202)


class GlanceApi:
    """Glance's image API v2: listing and showing images."""

    def __init__(self, state: FakeState) -> None:
        self.state = state

    def add_routes(self, app: web.Application) -> None:
        """Serve under /image."""
        app.router.add_get("/image", self.versions)
        app.router.add_get("/image/", self.versions)
        app.router.add_get("/image/v2/images", self.list_images)
        app.router.add_get("/image/v2/images/{id}", self.show_image)

    async def versions(self, _: web.Request) -> web.Response:
        """GET /image/."""
        link = {"rel": "self", "href": f"{self.state.base}/image/v2/"}
        version = {"id": "v2.16", "status": "CURRENT", "links": [link]}
        return web.json_response({"versions": [version]}, status=300)

    async def list_images(self, request: web.Request) -> web.Response:
        """GET /images (name=... filters)."""
        images = list(self.state.images.values())
        if "name" in request.query:
            images = [i for i in images if i["name"] == request.query["name"]]
        page = {"images": images, "first": "/v2/images", "schema": "/v2/schemas/images"}
        return web.json_response(page)

    async def show_image(self, request: web.Request) -> web.Response:
        """GET /images/{id}: Glance's 404 is an HTML page."""
        image = self.state.images.get(request.match_info["id"])
        if image is None:
            text = f"No image found with ID {request.match_info['id']}"
            raise web.HTTPNotFound(text=f"<html><body><h1>404 Not Found</h1>{text}</body></html>")
        return web.json_response(image)
