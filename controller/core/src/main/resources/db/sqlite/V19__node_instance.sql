-- Kept only so both schemas have the same versions (db/migration V19).
ALTER TABLE controller_nodes ADD COLUMN instance TEXT NOT NULL DEFAULT '';
