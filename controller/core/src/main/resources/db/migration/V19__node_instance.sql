-- Which process runs as each node: a random id per start, kept in the node's data directory. A
-- process that finds its name held by another live process refuses to start, and a node whose
-- name another process took stops: two nodes with one name would take each other's commands.
ALTER TABLE controller_nodes ADD COLUMN instance VARCHAR(64) NOT NULL DEFAULT '';
