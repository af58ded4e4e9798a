-- Deployments and what each host reported. agent_apps keeps the latest lifecycle state per host and app.

CREATE TABLE deployments (
  id          VARCHAR(32)  PRIMARY KEY,
  kind        VARCHAR(16)  NOT NULL,
  app         VARCHAR(63)  NOT NULL,
  version     VARCHAR(64)  NOT NULL,
  selector    VARCHAR(1024) NOT NULL,
  created_by  VARCHAR(63)  NOT NULL,
  created_at  BIGINT       NOT NULL
);

CREATE TABLE deployment_hosts (
  deployment_id  VARCHAR(32)   NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  agent_id       VARCHAR(63)   NOT NULL,
  phase          VARCHAR(24)   NOT NULL,
  failure_kind   VARCHAR(32)   NOT NULL DEFAULT '',
  failure        VARCHAR(4000) NOT NULL DEFAULT '',
  version        VARCHAR(64)   NOT NULL DEFAULT '',
  updated_at     BIGINT        NOT NULL,
  PRIMARY KEY (deployment_id, agent_id)
);

CREATE TABLE agent_apps (
  agent_id          VARCHAR(63)   NOT NULL,
  app               VARCHAR(63)   NOT NULL,
  version           VARCHAR(64)   NOT NULL,
  phase             VARCHAR(24)   NOT NULL,
  failure_kind      VARCHAR(32)   NOT NULL DEFAULT '',
  failure           VARCHAR(4000) NOT NULL DEFAULT '',
  current_version   VARCHAR(64)   NOT NULL DEFAULT '',
  previous_version  VARCHAR(64)   NOT NULL DEFAULT '',
  kept_versions     VARCHAR(1024) NOT NULL DEFAULT '',
  updated_at        BIGINT        NOT NULL,
  PRIMARY KEY (agent_id, app)
);
