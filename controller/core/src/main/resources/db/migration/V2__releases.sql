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
