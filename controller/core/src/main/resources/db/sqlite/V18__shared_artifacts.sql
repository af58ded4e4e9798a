-- The embedded store serves one controller, whose artifacts are on its disk: the shared
-- artifacts of several nodes on PostgreSQL (db/migration V18) are kept here only so both schemas
-- have the same versions.
CREATE TABLE artifact_blobs (
  digest     TEXT PRIMARY KEY,
  size       INTEGER NOT NULL,
  stored_at  INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE artifact_chunks (
  digest  TEXT NOT NULL REFERENCES artifact_blobs (digest) ON DELETE CASCADE,
  seq     INTEGER NOT NULL,
  bytes   BLOB NOT NULL,
  PRIMARY KEY (digest, seq)
);
