-- Which controller node leads (runs the rollout engine) when several share this database, until
-- when (the database's clock), and the fencing epoch: every write of the rollout engine checks,
-- in its own transaction, that its node still holds the lease of its epoch. One row, always there.
CREATE TABLE controller_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  holder VARCHAR(255) NOT NULL,
  epoch BIGINT NOT NULL,
  expires_at TIMESTAMP WITH TIME ZONE NOT NULL
);
INSERT INTO controller_lease (id, holder, epoch, expires_at)
  VALUES (1, '', 0, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00');
