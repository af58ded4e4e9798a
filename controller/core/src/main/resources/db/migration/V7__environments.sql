-- Environments: every file applied is kept (version 1, 2, ...); the highest version is in force.

CREATE TABLE environment_files (
  version     INT          PRIMARY KEY,
  yaml        TEXT         NOT NULL,
  applied_by  VARCHAR(63)  NOT NULL,
  applied_at  BIGINT       NOT NULL
);

-- The environment a promotion deployed to ('' for other deployments): what promotion rules read.
ALTER TABLE deployments ADD COLUMN environment VARCHAR(31) NOT NULL DEFAULT '';
-- Why an admin let the deployment run outside change windows; '' when it keeps to them.
ALTER TABLE deployments ADD COLUMN window_override VARCHAR(2000) NOT NULL DEFAULT '';
CREATE INDEX deployments_app_version ON deployments (app, version);

-- Environment secrets, each sealed with AES-256-GCM under the key in the data directory
-- (secrets.key); no plain value is ever stored.
CREATE TABLE environment_secrets (
  environment  VARCHAR(31)   NOT NULL,
  name         VARCHAR(128)  NOT NULL,
  sealed       TEXT          NOT NULL,
  updated_by   VARCHAR(63)   NOT NULL,
  updated_at   BIGINT        NOT NULL,
  PRIMARY KEY (environment, name)
);

-- The configuration digest each host's current release was installed with ('' for none): what
-- 'rackroll env diff' compares with its environment's values now.
ALTER TABLE agent_apps ADD COLUMN config_digest VARCHAR(64) NOT NULL DEFAULT '';
