package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The lease of several controller nodes on one real PostgreSQL, each node with its own connection
 * pool as separate processes would have: who leads, takeover after a lapse, and the fence that
 * refuses a deployment write from a node that lost the lease, its database session cut included.
 * The lease lapsing is made to happen on the database's own clock by setting its end in the past
 * (the test cannot move PostgreSQL's clock, and waiting out a real lease would be a sleep).
 */
class LeaseStoreTest {
  private static final Duration TTL = Duration.ofSeconds(15);
  private static final int POOL = 3;
  private static EmbeddedPostgres postgres;
  private HikariDataSource poolOne;
  private HikariDataSource poolTwo;
  private Store one;
  private Store two;

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = EmbeddedPostgres.builder().start();
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  @BeforeEach
  void twoNodes() throws Exception {
    poolOne = pool("node-one");
    poolTwo = pool("node-two");
    one = JdbcStore.shared(poolOne);
    two = JdbcStore.shared(poolTwo);
    admin("UPDATE controller_lease SET holder = '', epoch = 0, expires_at = clock_timestamp() WHERE id = 1");
  }

  @AfterEach
  void close() {
    poolOne.close();
    poolTwo.close();
  }

  private static HikariDataSource pool(String node) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(postgres.getJdbcUrl("postgres", "postgres") + "&ApplicationName=" + node);
    config.setMaximumPoolSize(POOL);
    config.setPoolName(node);
    return new HikariDataSource(config);
  }

  /** A statement from outside both nodes, as a database admin's psql session. */
  private static int admin(String sql) throws Exception {
    try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
      return s.executeUpdate(sql);
    }
  }

  /** The lease's end passes on the database's clock. */
  private static void lapse() throws Exception {
    admin("UPDATE controller_lease SET expires_at = clock_timestamp() - INTERVAL '1 second' WHERE id = 1");
  }

  private static String id() {
    return "d-" + java.util.UUID.randomUUID().toString().substring(0, 8);
  }

  @Test
  void oneNodeTakesTheLeaseAndKeepsItByRenewingWhileTheOtherWaits() {
    long epoch = one.lease().orElseThrow().acquire("node-one", TTL).orElseThrow();
    assertThat(two.lease().orElseThrow().acquire("node-two", TTL)).isEmpty();
    assertThat(one.lease().orElseThrow().renew("node-one", epoch, TTL)).isTrue();
    assertThat(two.lease().orElseThrow().acquire("node-two", TTL)).isEmpty();
    assertThat(two.lease().orElseThrow().holder()).hasValueSatisfying(h -> {
      assertThat(h.node()).isEqualTo("node-one");
      assertThat(h.epoch()).isEqualTo(epoch);
    });
    // A clean stop lets it go at once: the other node need not wait for it to lapse.
    one.lease().orElseThrow().release("node-one", epoch);
    assertThat(two.lease().orElseThrow().acquire("node-two", TTL)).hasValue(epoch + 1);
  }

  @Test
  void aLapsedLeaseIsTakenOverWithTheNextEpochAndTheOldLeaderCanNoLongerChangeADeployment() throws Exception {
    long first = one.lease().orElseThrow().acquire("node-one", TTL).orElseThrow();
    one.lease().orElseThrow().fence("node-one", first);
    String d = id();
    one.deployments().createDeployment(StoreContract.deployment(d, "web", List.of()));
    one.deployments().deploymentState(d, "running", 1, "", StoreContract.T0);

    // node-one pauses past its lease; node-two takes over.
    lapse();
    OptionalLong second = two.lease().orElseThrow().acquire("node-two", TTL);
    assertThat(second).hasValue(first + 1);
    two.lease().orElseThrow().fence("node-two", first + 1);

    // node-one wakes up and writes with its old epoch: refused, nothing changed.
    assertThatThrownBy(() -> one.deployments().deploymentState(d, "failed", 1, "stale", StoreContract.T0))
        .isInstanceOf(LeaseStore.Fenced.class)
        .hasMessage("controller node node-one no longer leads (its lease was epoch " + first + "; node node-two holds"
            + " epoch " + (first + 1) + "): it changes no deployment");
    assertThatThrownBy(() -> one.deployments().createDeployment(StoreContract.deployment(id(), "web", List.of())))
        .isInstanceOf(LeaseStore.Fenced.class);
    assertThat(one.lease().orElseThrow().renew("node-one", first, TTL)).as("its renewal fails: it follows").isFalse();
    assertThat(two.deployments().deployment(d).orElseThrow().state()).isEqualTo("running");

    // The new leader writes.
    two.deployments().deploymentState(d, "completed", 1, "", StoreContract.T0);
    assertThat(one.deployments().deployment(d).orElseThrow().state()).isEqualTo("completed");
  }

  @Test
  void aLeaderWhoseLeaseLapsedWritesNothingEvenBeforeAnotherNodeTakesOver() throws Exception {
    long epoch = one.lease().orElseThrow().acquire("node-one", TTL).orElseThrow();
    one.lease().orElseThrow().fence("node-one", epoch);
    String d = id();
    one.deployments().createDeployment(StoreContract.deployment(d, "web", List.of()));
    lapse();
    assertThatThrownBy(() -> one.deployments().deploymentState(d, "failed", 0, "", StoreContract.T0))
        .isInstanceOf(LeaseStore.Fenced.class).hasMessageContaining("let its lease of epoch " + epoch + " lapse");
    // Nobody took over: renewing lets it go on with the same epoch.
    assertThat(one.lease().orElseThrow().renew("node-one", epoch, TTL)).isTrue();
    one.deployments().deploymentState(d, "paused", 0, "", StoreContract.T0);
  }

  @Test
  void aLeaderCutFromTheDatabaseIsRefusedOnceAnotherNodeLeads() throws Exception {
    long first = one.lease().orElseThrow().acquire("node-one", TTL).orElseThrow();
    one.lease().orElseThrow().fence("node-one", first);
    String d = id();
    one.deployments().createDeployment(StoreContract.deployment(d, "web", List.of()));

    // Every session of node-one is killed from PostgreSQL's side.
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            + " WHERE application_name = 'node-one'"); ResultSet rs = ps.executeQuery()) {
      int killed = 0;
      while (rs.next()) {
        killed += rs.getBoolean(1) ? 1 : 0;
      }
      assertThat(killed).as("node-one's sessions killed").isPositive();
    }
    // It cannot renew while cut off; its lease lapses; node-two leads.
    lapse();
    assertThat(two.lease().orElseThrow().acquire("node-two", TTL)).hasValue(first + 1);
    // node-one tries again: each of its broken pooled sessions fails once, then on a new session
    // the fence refuses it. No attempt writes anything.
    Throwable last = null;
    for (int i = 0; i <= POOL && !(last instanceof LeaseStore.Fenced); i++) {
      last = org.assertj.core.api.Assertions.catchThrowable(
          () -> one.deployments().deploymentState(d, "failed", 0, "", StoreContract.T0));
      assertThat(last).isInstanceOf(StoreException.class);
    }
    assertThat(last).isInstanceOf(LeaseStore.Fenced.class);
    assertThat(two.deployments().deployment(d).orElseThrow().state()).isEqualTo("running");
  }

  @Test
  void aTakeoverWaitsForTheLeadersWriteInFlightAndWritesAfterItAreRefused() throws Exception {
    long first = one.lease().orElseThrow().acquire("node-one", TTL).orElseThrow();
    one.lease().orElseThrow().fence("node-one", first);
    String d = id();
    one.deployments().createDeployment(StoreContract.deployment(d, "web", List.of()));

    // node-one is inside a transaction that has passed its fence and written, not yet committed.
    CountDownLatch written = new CountDownLatch(1);
    CountDownLatch commit = new CountDownLatch(1);
    CompletableFuture<Void> inFlight = CompletableFuture.runAsync(() -> one.commits().grouped(() -> {
      one.deployments().deploymentState(d, "paused", 0, "in flight", StoreContract.T0);
      written.countDown();
      try {
        commit.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    assertThat(written.await(30, TimeUnit.SECONDS)).isTrue();

    // Its lease ends and node-two tries to take over: the takeover waits on the lease's lock.
    CompletableFuture<OptionalLong> takeover = CompletableFuture.supplyAsync(() -> {
      try {
        lapse();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return two.lease().orElseThrow().acquire("node-two", TTL);
    });
    await("the lease's change waits for node-one's transaction").atMost(Duration.ofSeconds(30))
        .until(LeaseStoreTest::someoneWaitsOnALock);
    assertThat(takeover).isNotDone();

    // node-one commits what it wrote while it led; then node-two leads, and node-one is fenced.
    commit.countDown();
    inFlight.get(30, TimeUnit.SECONDS);
    assertThat(takeover.get(30, TimeUnit.SECONDS)).hasValue(first + 1);
    assertThat(two.deployments().deployment(d).orElseThrow().state()).isEqualTo("paused");
    assertThatThrownBy(() -> one.deployments().deploymentState(d, "failed", 0, "", StoreContract.T0))
        .isInstanceOf(LeaseStore.Fenced.class);
  }

  private static boolean someoneWaitsOnALock() throws Exception {
    try (Connection c = postgres.getPostgresDatabase().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() && rs.getInt(1) > 0;
    }
  }
}
