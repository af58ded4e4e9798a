-- The SHA-256 of each agent certificate's encoding (base64url, as the CA fingerprint is written):
-- an agent that reconnects with one of these is known by a hash instead of a signature check.
-- Empty for certificates issued before; filled the next time such a certificate is verified in full.
ALTER TABLE issued_certificates ADD COLUMN fingerprint VARCHAR(64) NOT NULL DEFAULT '';
