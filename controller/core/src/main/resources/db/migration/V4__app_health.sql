-- The last periodic health report per host and app, as one operator-readable line.
ALTER TABLE agent_apps ADD COLUMN health VARCHAR(2000) NOT NULL DEFAULT '';
ALTER TABLE agent_apps ADD COLUMN health_at BIGINT NOT NULL DEFAULT 0;
