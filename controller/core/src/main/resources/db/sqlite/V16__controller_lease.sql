-- The embedded store serves one controller, which always leads: the lease of several nodes on
-- PostgreSQL (db/migration V16) is kept here only so both schemas have the same versions.
CREATE TABLE controller_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  holder TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
INSERT INTO controller_lease (id, holder, epoch, expires_at) VALUES (1, '', 0, 0);
