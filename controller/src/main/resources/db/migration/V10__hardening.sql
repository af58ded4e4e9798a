-- What each artifact unpacks to, recorded at push: hosts unpack no more than this.
-- Releases pushed before it have 0 (not known): hosts then fall back to the byte count alone.
ALTER TABLE releases ADD COLUMN unpacked_entries BIGINT NOT NULL DEFAULT 0;
