package io.rackroll.controller.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The same contract on a real PostgreSQL (started from Maven artifacts), the engine controller
 * replicas will share. One server for the class; the contract uses fresh ids per test.
 */
class PostgresStoreTest extends StoreContract {
  private static EmbeddedPostgres postgres;
  private static JdbcStore store;

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

  @Override
  Store store() {
    return store;
  }
}
