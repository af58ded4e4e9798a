-- The embedded store serves one controller: the tables of several nodes on PostgreSQL
-- (db/migration V17) are kept here only so both schemas have the same versions.
CREATE TABLE controller_nodes (
  name        TEXT PRIMARY KEY,
  address     TEXT NOT NULL,
  version     TEXT NOT NULL,
  started_at  INTEGER NOT NULL,
  seen_at     INTEGER NOT NULL
);
ALTER TABLE agents ADD COLUMN node TEXT NOT NULL DEFAULT '';
CREATE TABLE node_events (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  node      TEXT NOT NULL,
  agent_id  TEXT NOT NULL,
  kind      TEXT NOT NULL,
  body      BLOB NOT NULL,
  at        INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE agent_outbox (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  node      TEXT NOT NULL,
  agent_id  TEXT NOT NULL,
  command   BLOB NOT NULL,
  at        INTEGER NOT NULL DEFAULT 0
);
