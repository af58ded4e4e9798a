-- Each environment's runtime flags per app: what its completed flag changes to the whole
-- environment (no narrowing selector) left, as a JSON object. A host new to the app starts with them.
CREATE TABLE environment_flags (
  environment  VARCHAR(63)   NOT NULL,
  app          VARCHAR(63)   NOT NULL,
  flags        VARCHAR(8000) NOT NULL,
  updated_at   BIGINT        NOT NULL,
  PRIMARY KEY (environment, app)
);
