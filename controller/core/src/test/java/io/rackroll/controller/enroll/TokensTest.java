package io.rackroll.controller.enroll;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.testing.MutableClock;
import io.rackroll.trust.BootstrapToken;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokensTest {
  private static final String PIN = "P".repeat(43);
  @TempDir Path data;
  private final MutableClock clock = MutableClock.startingNow();
  private Store store;
  private Tokens tokens;

  @BeforeEach
  void open() {
    store = JdbcStore.embedded(data);
    tokens = new Tokens(store.enrollment(), clock, PIN);
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void tokenCarriesTheCaFingerprintAndItsLabels() {
    Tokens.Issued t = tokens.create(Map.of("rack", "r1"), Duration.ofMinutes(10), 1, "admin");
    assertThat(t.token().caFingerprint()).isEqualTo(PIN);
    assertThat(t.expiresAt()).isEqualTo(clock.instant().plus(Duration.ofMinutes(10)));
    assertThat(tokens.redeem(t.token()).labels()).isEqualTo(Map.of("rack", "r1"));
  }

  @Test
  void singleUseByDefaultMultiUseWhenAsked() {
    BootstrapToken three = tokens.create(Map.of(), Duration.ofMinutes(10), 3, "admin").token();
    tokens.redeem(three);
    tokens.redeem(three);
    tokens.redeem(three);
    assertThatThrownBy(() -> tokens.redeem(three)).hasMessage(three + " has already been used; create a new one with 'rackroll token create'");
  }

  @Test
  void expiresAfterItsTtl() {
    BootstrapToken t = tokens.create(Map.of(), Duration.ofMinutes(10), 1, "admin").token();
    clock.advance(Duration.ofMinutes(10));
    assertThatThrownBy(() -> tokens.redeem(t)).hasMessageContaining("expired at").hasMessageContaining("rackroll token create");
  }

  @Test
  void tokenOfAnotherCaIsRefusedWithoutSpendingAnything() {
    BootstrapToken t = tokens.create(Map.of(), Duration.ofMinutes(10), 1, "admin").token();
    BootstrapToken elsewhere = new BootstrapToken(t.id(), t.secret(), "Q".repeat(43));
    assertThatThrownBy(() -> tokens.redeem(elsewhere)).hasMessageContaining("another controller's CA");
    assertThat(tokens.redeem(t).labels()).isEmpty();
  }

  @Test
  void storeNeverSeesTheSecret() {
    BootstrapToken t = tokens.create(Map.of(), Duration.ofMinutes(10), 1, "admin").token();
    assertThat(Tokens.hash(t.secret())).hasSize(64).isNotEqualTo(t.secret());
  }

  @Test
  void refusesBadRequests() {
    assertThatThrownBy(() -> tokens.create(Map.of(), Duration.ZERO, 1, "admin")).hasMessageStartingWith("ttl: PT0S");
    assertThatThrownBy(() -> tokens.create(Map.of(), Duration.ofDays(31), 1, "admin")).hasMessageContaining("at most 30 days");
    assertThatThrownBy(() -> tokens.create(Map.of(), Duration.ofHours(1), 0, "admin")).hasMessage("uses: 0 (expected: >= 1)");
    assertThatThrownBy(() -> tokens.create(Map.of("rack", "r 1"), Duration.ofHours(1), 1, "admin"))
        .hasMessageStartingWith("label rack=\"r 1\"");
  }

  @Test
  void labelsParseAndRefuse() {
    assertThat(Labels.parse("rack=r1, role=web")).containsExactly(Map.entry("rack", "r1"), Map.entry("role", "web"));
    assertThat(Labels.parse("")).isEmpty();
    assertThatThrownBy(() -> Labels.parse("rack")).hasMessage("label \"rack\" (expected: key=value, e.g. rack=r1)");
    assertThatThrownBy(() -> Labels.parse("rack=r1,rack=r2")).hasMessage("label \"rack\" given twice (expected: each key once)");
    assertThatThrownBy(() -> Labels.parse("-x=1")).hasMessageStartingWith("label key \"-x\"");
  }
}
