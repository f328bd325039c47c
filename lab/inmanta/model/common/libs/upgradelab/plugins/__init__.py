"""
upgradelab plugins: a file resource with its handler, a plugin for the files folder, and the
service entity export plugins.

The export plugins stand in for the ones of the commercial LSM extension (same names):

* ``service_entities_exporter_strict``: writes the service entity definitions to ``lsm_serviceentity``
  and fails, without writing anything, when existing rows of ``lsm_serviceinstance`` would change
  (an attribute was added or removed).
* ``service_entities_exporter``: writes the definitions and migrates the existing instances (new
  attributes get their default value, removed ones are dropped, the old active attributes are kept
  in ``rollback_attributes``). Take a database backup first.

The tables are created by ``lab/inmanta/fixtures.sql``. The database is the server's: the
``[database]`` section of the inmanta configuration or the ``INMANTA_DATABASE_*`` variables.
"""

import asyncio
import json
import logging
import os
import tempfile
import threading
from typing import Any, Callable, Coroutine, Optional, TypeVar

from inmanta.agent.handler import CRUDHandler, HandlerContext, ResourcePurged, provider
from inmanta.config import Config
from inmanta.export import Exporter, export
from inmanta.plugins import plugin
from inmanta.resources import PurgeableResource, resource

LOGGER = logging.getLogger(__name__)

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------


@plugin
def files_dir() -> "string":  # type: ignore[name-defined]  # noqa: F821
    """
    The folder the lab's config files go to: $UPGRADE_LAB_FILES_DIR on the compiling host
    (scripts/inmanta/server.sh sets it for the server and its compiler), else <tmp>/upgrade-lab-files.
    """
    folder = os.environ.get("UPGRADE_LAB_FILES_DIR")
    if not folder:
        folder = os.path.join(tempfile.gettempdir(), "upgrade-lab-files")
    return os.path.abspath(folder)


@resource("upgradelab::ConfigFile", agent="agentname", id_attribute="path")
class ConfigFile(PurgeableResource):
    fields = ("path", "content", "agentname")


@provider("upgradelab::ConfigFile", name="upgradelab_file")
class ConfigFileHandler(CRUDHandler[ConfigFile]):
    def read_resource(self, ctx: HandlerContext, resource: ConfigFile) -> None:
        if not os.path.isfile(resource.path):
            raise ResourcePurged()
        with open(resource.path, "r", encoding="utf-8") as fh:
            resource.content = fh.read()

    def _write(self, resource: ConfigFile) -> None:
        os.makedirs(os.path.dirname(resource.path), exist_ok=True)
        tmp = resource.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(resource.content)
        os.replace(tmp, resource.path)

    def create_resource(self, ctx: HandlerContext, resource: ConfigFile) -> None:
        self._write(resource)
        ctx.info("created %(path)s", path=resource.path)
        ctx.set_created()

    def update_resource(self, ctx: HandlerContext, changes: dict[str, dict[str, Any]], resource: ConfigFile) -> None:
        self._write(resource)
        ctx.info("updated %(path)s", path=resource.path)
        ctx.set_updated()

    def delete_resource(self, ctx: HandlerContext, resource: ConfigFile) -> None:
        os.remove(resource.path)
        ctx.info("removed %(path)s", path=resource.path)
        ctx.set_purged()


# ---------------------------------------------------------------------------------------------
# service entity exporters
# ---------------------------------------------------------------------------------------------


class InstanceUpdateRefused(Exception):
    """The strict exporter found instances whose attributes would change."""


def _run_async(fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on a private event loop in a thread (the exporter may already run inside a loop)."""
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(fn())
        except BaseException as e:  # noqa: B902  re-raised in the caller's thread
            result["error"] = e

    thread = threading.Thread(target=target, name="upgradelab-exporter")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def _db_settings() -> dict[str, Any]:
    return {
        "host": Config.get("database", "host", "localhost"),
        "port": int(Config.get("database", "port", 5432)),
        "database": Config.get("database", "name", "inmanta"),
        "user": Config.get("database", "username", "postgres"),
        "password": Config.get("database", "password", None),
    }


def _definition(entity: Any) -> dict[str, Any]:
    attributes = []
    for attr in sorted(entity.attributes, key=lambda a: a.name):
        attributes.append(
            {
                "name": attr.name,
                "type": attr.attribute_type,
                "default_value": attr.default_value,
                "modifier": attr.modifier,
            }
        )
    return {"name": entity.name, "description": entity.description, "attributes": attributes}


def _migrate(attrs: Optional[dict[str, Any]], definition: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The attributes of an instance under the new definition: drop removed, add new with their default."""
    if attrs is None:
        return None
    names = [a["name"] for a in definition["attributes"]]
    out = {k: v for k, v in attrs.items() if k in names}
    for a in definition["attributes"]:
        if a["name"] not in out:
            out[a["name"]] = a["default_value"]
    return out


def _as_json(value: Any) -> Any:
    """asyncpg returns json/jsonb columns as text"""
    return json.loads(value) if isinstance(value, str) else value


def _as_dict(value: Any) -> Optional[dict[str, Any]]:
    if value is None:
        return None
    if isinstance(value, str):
        return json.loads(value)
    return dict(value)


async def _export_entities(environment: str, definitions: list[dict[str, Any]], strict: bool) -> dict[str, Any]:
    import asyncpg  # a dependency of inmanta-core

    conn = await asyncpg.connect(**_db_settings())
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('lsm_serviceentity', 'lsm_serviceinstance')"
        )
        if found != 2:
            raise Exception("tables lsm_serviceentity/lsm_serviceinstance are missing: load lab/inmanta/fixtures.sql first")

        summary: dict[str, Any] = {"entities": {}, "instances_updated": [], "refused": []}
        async with conn.transaction():
            for definition in definitions:
                name = definition["name"]
                row = await conn.fetchrow(
                    "SELECT version, description, attributes FROM lsm_serviceentity WHERE environment=$1 AND name=$2 FOR UPDATE",
                    environment,
                    name,
                )
                attributes_json = json.dumps(definition["attributes"], sort_keys=True)
                if row is None:
                    entity_version = 1
                    state = "created"
                else:
                    unchanged = (
                        json.dumps(_as_json(row["attributes"]), sort_keys=True) == attributes_json
                        and row["description"] == definition["description"]
                    )
                    entity_version = row["version"] if unchanged else row["version"] + 1
                    state = "unchanged" if unchanged else "updated"
                summary["entities"][name] = {"state": state, "version": entity_version}

                instances = await conn.fetch(
                    "SELECT id, version, candidate_attributes, active_attributes FROM lsm_serviceinstance "
                    "WHERE environment=$1 AND service_entity=$2 AND NOT deleted ORDER BY id FOR UPDATE",
                    environment,
                    name,
                )
                for inst in instances:
                    candidate = _as_dict(inst["candidate_attributes"])
                    active = _as_dict(inst["active_attributes"])
                    new_candidate = _migrate(candidate, definition)
                    new_active = _migrate(active, definition)
                    if new_candidate == candidate and new_active == active:
                        continue
                    if strict:
                        summary["refused"].append(str(inst["id"]))
                        continue
                    await conn.execute(
                        "UPDATE lsm_serviceinstance SET candidate_attributes=$2::jsonb, active_attributes=$3::jsonb, "
                        "rollback_attributes=$4::jsonb, version=version+1, service_entity_version=$5, last_updated=now() "
                        "WHERE id=$1",
                        inst["id"],
                        json.dumps(new_candidate) if new_candidate is not None else None,
                        json.dumps(new_active) if new_active is not None else None,
                        json.dumps(active) if active is not None else None,
                        entity_version,
                    )
                    summary["instances_updated"].append(str(inst["id"]))

                if summary["refused"]:
                    continue
                await conn.execute(
                    "INSERT INTO lsm_serviceentity (environment, name, version, description, attributes, last_exported) "
                    "VALUES ($1, $2, $3, $4, $5::jsonb, now()) "
                    "ON CONFLICT (environment, name) DO UPDATE SET version=EXCLUDED.version, "
                    "description=EXCLUDED.description, attributes=EXCLUDED.attributes, last_exported=now()",
                    environment,
                    name,
                    entity_version,
                    definition["description"],
                    attributes_json,
                )
            if summary["refused"]:
                # leaves the transaction: nothing is written
                raise InstanceUpdateRefused(
                    "service_entities_exporter_strict: the new definition would change existing service instances "
                    f"{', '.join(summary['refused'])}; make a database backup and use service_entities_exporter"
                )
        return summary
    finally:
        await conn.close()


def _export(exporter: Exporter, types: dict[str, Any], strict: bool) -> None:
    environment = exporter.get_environment_id()
    entities = types.get("upgradelab::ServiceEntity", [])
    definitions = [_definition(e) for e in entities]
    summary = _run_async(lambda: _export_entities(environment, definitions, strict))
    LOGGER.info(
        "%s: %d service entities exported to environment %s: %s; instances updated: %s",
        "service_entities_exporter_strict" if strict else "service_entities_exporter",
        len(definitions),
        environment,
        json.dumps(summary["entities"], sort_keys=True),
        summary["instances_updated"] or "none",
    )


@export("service_entities_exporter", "upgradelab::ServiceEntity")
def service_entities_exporter(exporter: Exporter, types: dict[str, Any]) -> None:
    _export(exporter, types, strict=False)


@export("service_entities_exporter_strict", "upgradelab::ServiceEntity")
def service_entities_exporter_strict(exporter: Exporter, types: dict[str, Any]) -> None:
    _export(exporter, types, strict=True)
