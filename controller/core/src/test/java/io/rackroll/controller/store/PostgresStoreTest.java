package io.rackroll.controller.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Every part's contract on a real PostgreSQL (started from Maven artifacts), the engine controller
 * replicas will share. One server for the class; the contracts use fresh ids per test.
 */
class PostgresStoreTest extends StoreContracts {
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

  @Override
  Store store() {
    return store;
  }
}
