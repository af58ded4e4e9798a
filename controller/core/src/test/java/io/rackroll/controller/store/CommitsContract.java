package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.proto.v1.Facts;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Group commit: a thread's burst of writes is one transaction, each write still all or nothing. */
abstract class CommitsContract extends StoreContract {
  private String enrolled() {
    String a = id("ag-");
    store().enrollment().enroll(new Enrollment(a, Map.of(), "tok00001", "s-" + a, T0.plusSeconds(3600), T0));
    return a;
  }

  @Test
  void aBurstIsCommittedOnceAndWhatWaitedForItRunsAfter() {
    String a = enrolled();
    String b = enrolled();
    List<String> seen = new ArrayList<>();
    store().commits().grouped(() -> {
      store().agents().connected(a, "1.0", Facts.getDefaultInstance(), T0.plusSeconds(1));
      store().commits().afterCommit(() -> seen.add("sent to " + a));
      store().agents().connected(b, "1.0", Facts.getDefaultInstance(), T0.plusSeconds(2));
      // Inside the burst, its own writes are read back.
      seen.add("reads " + store().agents().agent(a).orElseThrow().agentVersion());
      store().commits().grouped(() -> store().commits().afterCommit(() -> seen.add("nested")));
      assertThat(seen).as("nothing acted on before the commit").containsExactly("reads 1.0");
    });
    assertThat(seen).containsExactly("reads 1.0", "sent to " + a, "nested");
    assertThat(store().agents().agent(b).orElseThrow().state()).isEqualTo(ConnectionState.CONNECTED);
  }

  @Test
  void aFailedCallInABurstLeavesNothingOfItselfAndTheRestCommits() {
    String a = enrolled();
    String taken = enrolled();
    store().commits().grouped(() -> {
      store().agents().connected(a, "2.0", Facts.getDefaultInstance(), T0.plusSeconds(1));
      // An enrollment that fails on the id that exists (the savepoint itself: JdbcGroupTest).
      assertThatThrownBy(() -> store().enrollment().enroll(new Enrollment(taken, Map.of("rack", "r9"), "tok00002",
          "s2-" + taken, T0.plusSeconds(3600), T0))).isInstanceOf(StoreException.class);
    });
    assertThat(store().agents().agent(a).orElseThrow().agentVersion()).isEqualTo("2.0");
    assertThat(store().agents().agent(taken).orElseThrow().labels()).isEmpty();
    assertThat(store().enrollment().certificatesOf(taken, T0)).containsExactly("s-" + taken);
  }

  @Test
  void aBurstThatFailsKeepsNothingAndActsOnNothing() {
    String a = enrolled();
    List<String> acted = new ArrayList<>();
    assertThatThrownBy(() -> store().commits().grouped(() -> {
      store().agents().connected(a, "3.0", Facts.getDefaultInstance(), T0.plusSeconds(1));
      store().commits().afterCommit(() -> acted.add("sent"));
      throw new IllegalStateException("the burst's owner gave up");
    })).hasMessage("the burst's owner gave up");
    assertThat(acted).isEmpty();
    assertThat(store().agents().agent(a).orElseThrow().agentVersion()).isNotEqualTo("3.0");
    // Outside a burst, an action runs at once.
    store().commits().afterCommit(() -> acted.add("now"));
    assertThat(acted).containsExactly("now");
  }
}
