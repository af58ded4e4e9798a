-- Certificate renewal and revocation.

-- The certificate an agent renewed away from stays usable until it expires (a stream opened
-- with it keeps running); revoking the agent refuses both.
ALTER TABLE agents ADD COLUMN previous_cert_serial VARCHAR(64) NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN previous_cert_not_after BIGINT NOT NULL DEFAULT 0;
-- Fingerprint of the CA that signed the current certificate: during a CA rotation, which agents
-- still hold a certificate from the old CA.
ALTER TABLE agents ADD COLUMN cert_ca VARCHAR(64) NOT NULL DEFAULT '';
-- Set by 'rackroll agents revoke'; cleared when the host enrolls again with a new token.
ALTER TABLE agents ADD COLUMN revoked_at BIGINT;

-- Refused serials, loaded into memory at start; a row can go once its certificate has expired.
CREATE TABLE revoked_certificates (
  serial      VARCHAR(64)  PRIMARY KEY,
  agent_id    VARCHAR(63)  NOT NULL,
  not_after   BIGINT       NOT NULL,
  revoked_at  BIGINT       NOT NULL,
  revoked_by  VARCHAR(63)  NOT NULL
);
