-- The configuration digest each host's release was installed with before a deployment changed it:
-- what a revert returns a reconfigured host to (the same version, its earlier values).
ALTER TABLE deployment_hosts ADD COLUMN before_config VARCHAR(64) NOT NULL DEFAULT '';

-- For a flag change (kind 'flags'): the flags it sets, as a JSON object of JSON values
-- (null removes a flag); '' for other deployments.
ALTER TABLE deployments ADD COLUMN flags VARCHAR(4000) NOT NULL DEFAULT '';

-- Each host's runtime flags per app, as its agent last reported them (a JSON object).
CREATE TABLE host_flags (
  agent_id    VARCHAR(63)   NOT NULL,
  app         VARCHAR(63)   NOT NULL,
  flags       VARCHAR(8000) NOT NULL,
  updated_at  BIGINT        NOT NULL,
  PRIMARY KEY (agent_id, app)
);
