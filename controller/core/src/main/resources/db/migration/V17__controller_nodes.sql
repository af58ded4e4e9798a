-- Several controller nodes on one database (PostgreSQL). Each node says it is alive here every few
-- seconds (the database's clock), with the address agents and admins reach it at.
CREATE TABLE controller_nodes (
  name        VARCHAR(255) PRIMARY KEY,
  address     VARCHAR(512) NOT NULL,
  version     VARCHAR(64)  NOT NULL,
  started_at  TIMESTAMP WITH TIME ZONE NOT NULL,
  seen_at     TIMESTAMP WITH TIME ZONE NOT NULL
);

-- The node an agent's stream is open to ('' for a single controller, or never connected).
ALTER TABLE agents ADD COLUMN node VARCHAR(255) NOT NULL DEFAULT '';

-- What each node heard from the agents it holds, for the node that leads: written in the same
-- transaction as the report itself, read in order of seq, pruned after a while.
CREATE TABLE node_events (
  seq       BIGSERIAL    PRIMARY KEY,
  node      VARCHAR(255) NOT NULL,
  agent_id  VARCHAR(63)  NOT NULL,
  kind      VARCHAR(16)  NOT NULL,
  body      BYTEA        NOT NULL,
  at        TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Commands of the leading node for agents, by the node that holds each agent: written in the
-- transaction that records the host as sent (fenced), taken and sent by that node.
CREATE TABLE agent_outbox (
  seq       BIGSERIAL    PRIMARY KEY,
  node      VARCHAR(255) NOT NULL,
  agent_id  VARCHAR(63)  NOT NULL,
  command   BYTEA        NOT NULL,
  at        TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX agent_outbox_node ON agent_outbox (node, seq);
