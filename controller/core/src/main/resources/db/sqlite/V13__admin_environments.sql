-- The environments a deployer may change, comma-separated; empty: every environment. What
-- 'rackroll admin add NAME --role deployer --env ENV' records and every deployment checks.
ALTER TABLE admins ADD COLUMN environments VARCHAR(2048) NOT NULL DEFAULT '';
