-- The schema of the embedded store (SQLite), as of version 10: the portable migrations V1 to V10
-- of db/migration in order, with one change SQLite needs: identity columns are
-- INTEGER PRIMARY KEY AUTOINCREMENT (a rowid alias, never reused).
-- A migration after V10 goes both here (as V11__...) and in db/migration, in SQL each engine runs.

-- ---- V1__agents_and_tokens.sql ----
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

-- ---- V2__releases.sql ----
-- Releases are immutable: one row per name@version, pointing at a content-addressed artifact.

CREATE TABLE releases (
  name            VARCHAR(63)  NOT NULL,
  version         VARCHAR(64)  NOT NULL,
  digest          VARCHAR(64)  NOT NULL,
  size_bytes      BIGINT       NOT NULL,
  unpacked_bytes  BIGINT       NOT NULL,
  manifest        TEXT         NOT NULL,
  pushed_by       VARCHAR(63)  NOT NULL,
  pushed_at       BIGINT       NOT NULL,
  PRIMARY KEY (name, version)
);

CREATE INDEX releases_digest ON releases (digest);

-- ---- V3__deployments.sql ----
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

-- ---- V4__app_health.sql ----
-- The last periodic health report per host and app, as one operator-readable line.
ALTER TABLE agent_apps ADD COLUMN health VARCHAR(2000) NOT NULL DEFAULT '';
ALTER TABLE agent_apps ADD COLUMN health_at BIGINT NOT NULL DEFAULT 0;

-- ---- V5__rollouts.sql ----
-- Rolling deployments: the plan (each host's batch), the strategy, the deployment's own state,
-- every host transition (history, and proof of what ran at once), and the audit log.

ALTER TABLE deployments ADD COLUMN strategy VARCHAR(2000) NOT NULL DEFAULT '';
-- running, awaiting_approval, paused, aborting, rolling_back; or at the end completed, failed,
-- rolled_back, rollback_failed, aborted.
ALTER TABLE deployments ADD COLUMN state VARCHAR(24) NOT NULL DEFAULT 'completed';
ALTER TABLE deployments ADD COLUMN batch INT NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN batches INT NOT NULL DEFAULT 1;
ALTER TABLE deployments ADD COLUMN allowed_failures INT NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN reason VARCHAR(2000) NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
-- Deployments recorded before rollouts existed ran all at once; their state follows their hosts.
UPDATE deployments SET updated_at = created_at, state = CASE
  WHEN EXISTS (SELECT 1 FROM deployment_hosts h WHERE h.deployment_id = deployments.id
               AND h.phase NOT IN ('ACTIVE', 'ROLLED_BACK', 'FAILED', 'UNREACHABLE')) THEN 'failed'
  WHEN EXISTS (SELECT 1 FROM deployment_hosts h WHERE h.deployment_id = deployments.id
               AND h.phase <> 'ACTIVE') THEN 'failed'
  ELSE 'completed' END;
CREATE INDEX deployments_state ON deployments (state);

ALTER TABLE deployment_hosts ADD COLUMN hostname VARCHAR(255) NOT NULL DEFAULT '';
ALTER TABLE deployment_hosts ADD COLUMN domain VARCHAR(255) NOT NULL DEFAULT '';
-- -1: not in any batch (skipped).
ALTER TABLE deployment_hosts ADD COLUMN batch INT NOT NULL DEFAULT 0;
-- The release the host ran before this deployment changed it: where an automatic rollback returns it.
ALTER TABLE deployment_hosts ADD COLUMN before_version VARCHAR(64) NOT NULL DEFAULT '';
-- After a halt: '', PENDING, SENT, REVERTED, FAILED.
ALTER TABLE deployment_hosts ADD COLUMN revert VARCHAR(16) NOT NULL DEFAULT '';
CREATE INDEX deployment_hosts_agent ON deployment_hosts (agent_id);

CREATE TABLE host_transitions (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id  VARCHAR(32)   NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
  agent_id       VARCHAR(63)   NOT NULL,
  phase          VARCHAR(24)   NOT NULL,
  version        VARCHAR(64)   NOT NULL,
  detail         VARCHAR(4000) NOT NULL DEFAULT '',
  at             BIGINT        NOT NULL
);
CREATE INDEX host_transitions_deployment ON host_transitions (deployment_id, seq);
CREATE INDEX host_transitions_agent ON host_transitions (agent_id, seq);

CREATE TABLE audit (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  at      BIGINT        NOT NULL,
  actor   VARCHAR(63)   NOT NULL,
  action  VARCHAR(63)   NOT NULL,
  target  VARCHAR(255)  NOT NULL,
  detail  VARCHAR(4000) NOT NULL DEFAULT ''
);

-- ---- V6__certificates.sql ----
-- Certificate renewal and revocation.

-- The certificate an agent renewed away from stays usable until it expires (a stream opened
-- with it keeps running); revoking the agent refuses both.
ALTER TABLE agents ADD COLUMN previous_cert_serial VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN previous_cert_not_after BIGINT NOT NULL DEFAULT 0;
-- Fingerprint of the CA that signed the current certificate: during a CA rotation, which agents
-- still hold a certificate from the old CA.
ALTER TABLE agents ADD COLUMN cert_ca VARCHAR(64) NOT NULL DEFAULT '';
-- Set by 'rackroll agents revoke'; cleared when the host enrolls again with a new token.
ALTER TABLE agents ADD COLUMN revoked_at BIGINT;

-- Refused serials, loaded into memory at start; a row can go once its certificate has expired.
CREATE TABLE revoked_certificates (
  serial      VARCHAR(64)  PRIMARY KEY,
  agent_id    VARCHAR(63)  NOT NULL,
  not_after   BIGINT       NOT NULL,
  revoked_at  BIGINT       NOT NULL,
  revoked_by  VARCHAR(63)  NOT NULL
);

-- ---- V7__environments.sql ----
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

-- ---- V8__reconfigure_and_flags.sql ----
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

-- ---- V9__environment_flags.sql ----
-- Each environment's runtime flags per app: what its completed flag changes to the whole
-- environment (no narrowing selector) left, as a JSON object. A host new to the app starts with them.
CREATE TABLE environment_flags (
  environment  VARCHAR(63)   NOT NULL,
  app          VARCHAR(63)   NOT NULL,
  flags        VARCHAR(8000) NOT NULL,
  updated_at   BIGINT        NOT NULL,
  PRIMARY KEY (environment, app)
);

-- ---- V10__hardening.sql ----
-- What each artifact unpacks to, recorded at push: hosts unpack no more than this.
-- Releases pushed before it have 0 (not known): hosts then fall back to the byte count alone.
ALTER TABLE releases ADD COLUMN unpacked_entries BIGINT NOT NULL DEFAULT 0;

-- Agent ids are the controller's: a token made with 'token create --replaces AGENT' is the only way
-- to enroll a host as an agent that already exists (a reinstalled or replaced machine).
ALTER TABLE tokens ADD COLUMN replaces VARCHAR(63) NOT NULL DEFAULT '';

-- Every certificate issued to an agent (enrollment and renewal), so that revoking the agent or
-- replacing its host refuses all of them, not only the current and previous one.
CREATE TABLE issued_certificates (
  agent_id    VARCHAR(63)  NOT NULL,
  serial      VARCHAR(64)  NOT NULL,
  not_after   BIGINT       NOT NULL,
  issued_at   BIGINT       NOT NULL,
  PRIMARY KEY (agent_id, serial)
);

-- What is known of earlier certificates: each agent's current and previous one.
INSERT INTO issued_certificates (serial, agent_id, not_after, issued_at)
  SELECT cert_serial, id, cert_not_after, first_seen FROM agents WHERE cert_serial <> '';
INSERT INTO issued_certificates (serial, agent_id, not_after, issued_at)
  SELECT previous_cert_serial, id, previous_cert_not_after, first_seen FROM agents
  WHERE previous_cert_serial <> '' AND previous_cert_serial <> cert_serial;
