-- What each artifact unpacks to, recorded at push: hosts unpack no more than this.
-- Releases pushed before it have 0 (not known): hosts then fall back to the byte count alone.
ALTER TABLE releases ADD COLUMN unpacked_entries BIGINT NOT NULL DEFAULT 0;

-- Agent ids are the controller's: a token made with 'token create --replaces AGENT' is the only way
-- to enroll a host as an agent that already exists (a reinstalled or replaced machine).
ALTER TABLE tokens ADD COLUMN replaces VARCHAR(63) NOT NULL DEFAULT '';

-- Every certificate issued to an agent (enrollment and renewal), so that revoking the agent or
-- replacing its host refuses all of them, not only the current and previous one.
CREATE TABLE issued_certificates (
  agent_id    VARCHAR(63)  NOT NULL,
  serial      VARCHAR(64)  NOT NULL,
  not_after   BIGINT       NOT NULL,
  issued_at   BIGINT       NOT NULL,
  PRIMARY KEY (agent_id, serial)
);

-- What is known of earlier certificates: each agent's current and previous one.
INSERT INTO issued_certificates (serial, agent_id, not_after, issued_at)
  SELECT cert_serial, id, cert_not_after, first_seen FROM agents WHERE cert_serial <> '';
INSERT INTO issued_certificates (serial, agent_id, not_after, issued_at)
  SELECT previous_cert_serial, id, previous_cert_not_after, first_seen FROM agents
  WHERE previous_cert_serial <> '' AND previous_cert_serial <> cert_serial;
