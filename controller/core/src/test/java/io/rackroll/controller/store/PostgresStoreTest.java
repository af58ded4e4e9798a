package io.rackroll.controller.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/**
 * Every part's contract on a real PostgreSQL (started from Maven artifacts), the engine controller
 * replicas will share. One server for the class; the contracts use fresh ids per test.
 */
class PostgresStoreTest {
  private static EmbeddedPostgres postgres;
  private static Store store;

  @BeforeAll
  static void start() throws Exception {
    postgres = EmbeddedPostgres.builder().start();
    store = JdbcStore.open(postgres.getPostgresDatabase());
  }

  @AfterAll
  static void stop() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  @Nested
  class Enrollments extends EnrollmentStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Agents extends AgentStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Releases extends ReleaseStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Deployments extends DeploymentStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Environments extends EnvironmentStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Audit extends AuditStoreContract {
    @Override
    Store store() {
      return store;
    }
  }
}
