-- Service inventory of the lab: stand-ins for the tables of the commercial LSM extension.
-- Load into the orchestrator's database, with the environment id as a psql variable:
--   psql -h 127.0.0.1 -p $PG_PORT -U postgres -d inmanta -v ON_ERROR_STOP=1 -v env_id=$ENV_ID -f lab/inmanta/fixtures.sql
-- Re-running it is harmless: existing rows are kept. Instance ids are md5(env_id || '/svc-N')::uuid.
SET client_min_messages = warning;

-- The rows match release A of lab/inmanta/model (entity lab_config_file with attributes name, content).

CREATE TABLE IF NOT EXISTS lsm_serviceentity (
    environment   uuid        NOT NULL,
    name          varchar     NOT NULL,
    version       integer     NOT NULL DEFAULT 1,
    description   text        NOT NULL DEFAULT '',
    attributes    jsonb       NOT NULL DEFAULT '[]'::jsonb,
    lifecycle     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    config        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    last_exported timestamptz,
    PRIMARY KEY (environment, name)
);

CREATE TABLE IF NOT EXISTS lsm_serviceinstance (
    id                     uuid        PRIMARY KEY,
    environment            uuid        NOT NULL,
    service_entity         varchar     NOT NULL,
    service_entity_version integer     NOT NULL DEFAULT 1,
    version                integer     NOT NULL DEFAULT 1,
    state                  varchar     NOT NULL DEFAULT 'up',
    candidate_attributes   jsonb,
    active_attributes      jsonb,
    rollback_attributes    jsonb,
    created_at             timestamptz NOT NULL DEFAULT now(),
    last_updated           timestamptz NOT NULL DEFAULT now(),
    deleted                boolean     NOT NULL DEFAULT false
);

CREATE INDEX IF NOT EXISTS lsm_serviceinstance_env_entity ON lsm_serviceinstance (environment, service_entity);

INSERT INTO lsm_serviceentity (environment, name, version, description, attributes, lifecycle, last_exported)
VALUES (
    :'env_id'::uuid, 'lab_config_file', 1, 'A config file managed by the lab agent',
    '[{"name": "content", "type": "string", "modifier": "rw", "default_value": null},
      {"name": "name", "type": "string", "modifier": "r", "default_value": null}]'::jsonb,
    '{"initial_state": "start", "states": ["start", "creating", "up", "deleting", "terminated"]}'::jsonb,
    now()
)
ON CONFLICT (environment, name) DO NOTHING;

INSERT INTO lsm_serviceinstance (id, environment, service_entity, service_entity_version, version, state,
                                 candidate_attributes, active_attributes)
VALUES
    (md5(:'env_id' || '/svc-1')::uuid, :'env_id'::uuid, 'lab_config_file', 1, 3, 'up',
     NULL, '{"name": "svc-1", "content": "first service"}'::jsonb),
    (md5(:'env_id' || '/svc-2')::uuid, :'env_id'::uuid, 'lab_config_file', 1, 5, 'up',
     '{"name": "svc-2", "content": "second service, pending change"}'::jsonb,
     '{"name": "svc-2", "content": "second service"}'::jsonb),
    (md5(:'env_id' || '/svc-3')::uuid, :'env_id'::uuid, 'lab_config_file', 1, 2, 'terminated',
     NULL, NULL)
ON CONFLICT (id) DO NOTHING;

UPDATE lsm_serviceinstance SET deleted = true
WHERE id = md5(:'env_id' || '/svc-3')::uuid AND environment = :'env_id'::uuid;
