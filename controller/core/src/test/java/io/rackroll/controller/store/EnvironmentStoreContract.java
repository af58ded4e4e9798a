package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** What every backend's {@code EnvironmentStore} must do: the environments file, secrets and flags. */
abstract class EnvironmentStoreContract extends StoreContract {
  @Test
  void anEnvironmentsFlagsAreItsChangesMerged() {
    String app = id("app");
    assertThat(store().environments().environmentFlags(app)).isEmpty();

    store().environments().environmentFlags("production", app, Map.of("checkout.v2", "true", "color", "\"blue\""), T0);
    store().environments().environmentFlags("staging", app, Map.of("rate", "0.5"), T0);
    store().environments().environmentFlags("production", app, Map.of("color", "null", "rate", "1"), T0.plusSeconds(1));
    store().environments().environmentFlags("production", app, Map.of("color", "null", "rate", "1"), T0.plusSeconds(2)); // again

    assertThat(store().environments().environmentFlags(app)).containsExactly(
        Map.entry("production", Map.of("checkout.v2", "true", "rate", "1")),
        Map.entry("staging", Map.of("rate", "0.5")));
    assertThat(store().environments().environmentFlags(id("other"))).isEmpty();
  }

  @Test
  void eachAppliedFileIsTheNextVersionAndTheNewestIsTheOneInForce() {
    int first = store().environments().applyEnvironments("environments: {}\n", "alice", T0);
    String yaml = "environments:\n  " + id("env") + ":\n    selector: env=prod\n";
    int second = store().environments().applyEnvironments(yaml, "bob", T0.plusSeconds(1));
    assertThat(second).isEqualTo(first + 1);
    EnvironmentStore.EnvironmentFile now = store().environments().environmentFile().orElseThrow();
    assertThat(now).isEqualTo(new EnvironmentStore.EnvironmentFile(second, yaml, "bob", T0.plusSeconds(1)));
  }

  @Test
  void aSecretIsSetReplacedAndRemovedAndOnlyItsSealedFormIsKept() {
    String env = id("env");
    store().environments().putSecret(new EnvironmentStore.StoredSecret(env, "db.password", "sealed-1", "alice", T0));
    store().environments().putSecret(new EnvironmentStore.StoredSecret(env, "api.key", "sealed-2", "alice", T0));
    store().environments().putSecret(new EnvironmentStore.StoredSecret(env, "db.password", "sealed-3", "bob",
        T0.plusSeconds(5)));
    assertThat(store().environments().secrets()).filteredOn(s -> s.environment().equals(env)).containsExactly(
        new EnvironmentStore.StoredSecret(env, "api.key", "sealed-2", "alice", T0),
        new EnvironmentStore.StoredSecret(env, "db.password", "sealed-3", "bob", T0.plusSeconds(5)));

    assertThat(store().environments().deleteSecret(env, "api.key")).isTrue();
    assertThat(store().environments().deleteSecret(env, "api.key")).as("already gone").isFalse();
    assertThat(store().environments().secrets()).filteredOn(s -> s.environment().equals(env))
        .extracting(EnvironmentStore.StoredSecret::name).containsExactly("db.password");
  }
}
