"""``cinder.*`` and ``glance.*``: Mistral's block storage and image actions."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from openstack.connection import Connection

from actions.openstack._mistral import MistralCall, MistralInput


class ListInput(MistralInput):
    """cinderclient's ``list``: filters in ``search_opts``."""

    detailed: bool = True
    search_opts: dict[str, Any] | None = None
    marker: str | None = None
    limit: int | None = None
    sort: str | None = None


class BackupsCreateInput(MistralInput):
    """cinderclient's ``backups.create``."""

    volume_id: str
    container: str | None = None
    name: str | None = None
    description: str | None = None
    incremental: bool = False
    force: bool = False
    snapshot_id: str | None = None


class BackupInput(MistralInput):
    """A backup, by id."""

    backup: str


class BackupsDeleteInput(BackupInput):
    """cinderclient's ``backups.delete``."""

    force: bool = False


class VolumeInput(MistralInput):
    """A volume, by id."""

    volume: str


class VolumesCreateInput(MistralInput):
    """cinderclient's ``volumes.create``."""

    size: int
    name: str | None = None
    description: str | None = None
    volume_type: str | None = None
    availability_zone: str | None = None
    metadata: dict[str, str] | None = None
    imageRef: str | None = None
    snapshot_id: str | None = None
    source_volid: str | None = None


class ImagesListInput(MistralInput):
    """glanceclient's ``images.list``."""

    filters: dict[str, Any] | None = None
    limit: int | None = None
    sort_key: str | None = None
    sort_dir: str | None = None
    sort: str | None = None


class ImageInput(MistralInput):
    """An image, by id."""

    image_id: str


def _query(p: ListInput) -> dict[str, Any]:
    query = dict(p.search_opts or {})
    if p.marker:
        query["marker"] = p.marker
    if p.sort:
        query["sort"] = p.sort
    return query


def _take(items: Iterable[Any], limit: int | None) -> list[Any]:
    return list(itertools.islice(items, limit)) if limit else list(items)


def _create_backup(conn: Connection, p: BackupsCreateInput) -> Any:
    attrs = {
        "volume_id": p.volume_id,
        "container": p.container,
        "name": p.name,
        "description": p.description,
        "is_incremental": p.incremental,
        "force": p.force,
        "snapshot_id": p.snapshot_id,
    }
    return conn.block_storage.create_backup(**{k: v for k, v in attrs.items() if v is not None})


def _create_volume(conn: Connection, p: VolumesCreateInput) -> Any:
    attrs = p.model_dump(exclude={"cloud", "action_region", "imageRef"}, exclude_none=True)
    if p.imageRef:
        attrs["image_id"] = p.imageRef
    return conn.block_storage.create_volume(**attrs)


def _list_images(conn: Connection, p: ImagesListInput) -> Any:
    query = dict(p.filters or {})
    query.update(p.model_dump(include={"sort_key", "sort_dir", "sort"}, exclude_none=True))
    return _take(conn.image.images(**query), p.limit)


STORAGE: list[MistralCall] = [
    MistralCall("cinder.backups_create", BackupsCreateInput, _create_backup, "Back up a volume."),
    MistralCall(
        "cinder.backups_list",
        ListInput,
        lambda c, p: _take(c.block_storage.backups(details=p.detailed, **_query(p)), p.limit),
        "List volume backups.",
    ),
    MistralCall(
        "cinder.backups_get",
        BackupInput,
        lambda c, p: c.block_storage.get_backup(p.backup),
        "Get a volume backup.",
    ),
    MistralCall(
        "cinder.backups_delete",
        BackupsDeleteInput,
        lambda c, p: c.block_storage.delete_backup(p.backup, ignore_missing=False, force=p.force),
        "Delete a volume backup.",
    ),
    MistralCall("cinder.volumes_create", VolumesCreateInput, _create_volume, "Create a volume."),
    MistralCall(
        "cinder.volumes_list",
        ListInput,
        lambda c, p: _take(c.block_storage.volumes(details=p.detailed, **_query(p)), p.limit),
        "List volumes.",
    ),
    MistralCall(
        "cinder.volumes_get",
        VolumeInput,
        lambda c, p: c.block_storage.get_volume(p.volume),
        "Get a volume.",
    ),
    MistralCall(
        "cinder.volumes_delete",
        VolumeInput,
        lambda c, p: c.block_storage.delete_volume(p.volume, ignore_missing=False),
        "Delete a volume.",
    ),
    MistralCall("glance.images_list", ImagesListInput, _list_images, "List images."),
    MistralCall(
        "glance.images_get", ImageInput, lambda c, p: c.image.get_image(p.image_id), "Get an image."
    ),
    MistralCall(
        "glance.images_delete",
        ImageInput,
        lambda c, p: c.image.delete_image(p.image_id, ignore_missing=False),
        "Delete an image.",
    ),
]
