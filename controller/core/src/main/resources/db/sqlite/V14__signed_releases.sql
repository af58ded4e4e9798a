-- Signed releases: each release's detached signature ('rackroll release sign'; empty: unsigned),
-- the release keys a token gives the hosts it enrolls (one line each), and the key statements
-- (trust or withdraw a release key, signed by one) the controller hands every host.
ALTER TABLE releases ADD COLUMN signature TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN release_keys TEXT NOT NULL DEFAULT '';

CREATE TABLE key_statements (
  id         VARCHAR(64)  PRIMARY KEY,
  statement  TEXT         NOT NULL,
  pushed_by  VARCHAR(63)  NOT NULL,
  pushed_at  BIGINT       NOT NULL
);
