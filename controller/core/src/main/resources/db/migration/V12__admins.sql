-- People with certificates of their own, each with a role checked on every call, and the
-- certificates issued to them. The admin 'controller init' made (every data directory has one)
-- is the first owner.
CREATE TABLE admins (
  name        VARCHAR(63)  PRIMARY KEY,
  role        VARCHAR(16)  NOT NULL,
  created_at  BIGINT       NOT NULL,
  created_by  VARCHAR(63)  NOT NULL,
  revoked_at  BIGINT,
  revoked_by  VARCHAR(63)  NOT NULL DEFAULT ''
);

CREATE TABLE admin_certificates (
  serial     VARCHAR(64)  PRIMARY KEY,
  name       VARCHAR(63)  NOT NULL,
  not_after  BIGINT       NOT NULL,
  issued_at  BIGINT       NOT NULL
);

INSERT INTO admins (name, role, created_at, created_by) VALUES ('admin', 'owner', 0, 'controller init');
