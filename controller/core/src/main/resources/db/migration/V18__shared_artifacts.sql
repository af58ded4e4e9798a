-- Artifacts every controller node can serve (several nodes on one database): each pushed
-- artifact's bytes in chunks of at most 1 MiB, in order, and a row saying it is complete. A node
-- copies one to its own disk the first time an agent asks it for it, and checks its digest.
CREATE TABLE artifact_blobs (
  digest     VARCHAR(64) PRIMARY KEY,
  size       BIGINT      NOT NULL,
  stored_at  TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE artifact_chunks (
  digest  VARCHAR(64) NOT NULL REFERENCES artifact_blobs (digest) ON DELETE CASCADE,
  seq     INTEGER     NOT NULL,
  bytes   BYTEA       NOT NULL,
  PRIMARY KEY (digest, seq)
);
