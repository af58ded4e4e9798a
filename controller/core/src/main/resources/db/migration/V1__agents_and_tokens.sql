-- Portable SQL: runs unchanged on H2 (embedded default) and PostgreSQL (replicas).
-- Times are epoch milliseconds (BIGINT) so both engines and every driver agree on them.

CREATE TABLE tokens (
  id           VARCHAR(16)  PRIMARY KEY,
  secret_hash  VARCHAR(64)  NOT NULL,
  expires_at   BIGINT       NOT NULL,
  uses_left    INTEGER      NOT NULL,
  created_at   BIGINT       NOT NULL,
  created_by   VARCHAR(63)  NOT NULL
);

CREATE TABLE token_labels (
  token_id  VARCHAR(16)  NOT NULL REFERENCES tokens (id) ON DELETE CASCADE,
  label_key    VARCHAR(63)  NOT NULL,
  label_value  VARCHAR(255) NOT NULL,
  PRIMARY KEY (token_id, label_key)
);

CREATE TABLE agents (
  id              VARCHAR(63)  PRIMARY KEY,
  hostname        VARCHAR(255) NOT NULL DEFAULT '',
  system_serial   VARCHAR(255) NOT NULL DEFAULT '',
  agent_version   VARCHAR(64)  NOT NULL DEFAULT '',
  facts           BYTEA,
  state           VARCHAR(16)  NOT NULL,
  state_since     BIGINT       NOT NULL,
  first_seen      BIGINT       NOT NULL,
  last_seen       BIGINT       NOT NULL,
  cert_serial     VARCHAR(64)  NOT NULL,
  cert_not_after  BIGINT       NOT NULL,
  enrolled_with   VARCHAR(16)  NOT NULL
);

CREATE INDEX agents_system_serial ON agents (system_serial);

CREATE TABLE agent_labels (
  agent_id  VARCHAR(63)  NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
  label_key    VARCHAR(63)  NOT NULL,
  label_value  VARCHAR(255) NOT NULL,
  PRIMARY KEY (agent_id, label_key)
);
