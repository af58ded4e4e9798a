package io.rackroll.controller.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.controller.store.Deployment;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The deployment state table: every move it allows works, every other one is refused. */
class DeploymentStateTest {
  @Test
  void everyPairOfStatesIsAllowedExactlyWhenTheTableSaysSo() {
    int allowed = 0;
    for (DeploymentState from : DeploymentState.values()) {
      for (DeploymentState to : DeploymentState.values()) {
        if (from == to || from.next().contains(to)) {
          assertThatCode(() -> from.checkTransition(to)).as(from + " -> " + to).doesNotThrowAnyException();
          allowed++;
        } else {
          assertThatThrownBy(() -> from.checkTransition(to)).as(from + " -> " + to)
              .hasMessage("deployment state " + from.label() + " -> " + to.label() + " is not a legal move");
        }
      }
    }
    assertThat(allowed).as("moves in the table, staying put included").isEqualTo(12 + 26);
  }

  @Test
  void theEndedStatesAreTheStoresAndNothingLeavesThem() {
    Set<String> ended = Arrays.stream(DeploymentState.values()).filter(DeploymentState::ended)
        .map(DeploymentState::label).collect(Collectors.toSet());
    assertThat(ended).isEqualTo(Deployment.ENDED);
    // Every state that is not an end can reach one.
    for (DeploymentState s : DeploymentState.values()) {
      assertThat(s.ended() || reachesAnEnd(s, EnumSet.noneOf(DeploymentState.class))).as(s.label()).isTrue();
    }
  }

  @Test
  void labelsAreWhatTheStoreAndTheCliAlwaysUsed() {
    assertThat(DeploymentState.AWAITING_APPROVAL.label()).isEqualTo("awaiting_approval");
    assertThat(DeploymentState.of("waiting_window")).isEqualTo(DeploymentState.WAITING_WINDOW);
    for (DeploymentState s : DeploymentState.values()) {
      assertThat(DeploymentState.of(s.label())).isEqualTo(s);
    }
    assertThatThrownBy(() -> DeploymentState.of("exploded")).hasMessageStartingWith("deployment state: exploded");
  }

  private static boolean reachesAnEnd(DeploymentState s, Set<DeploymentState> seen) {
    if (s.ended()) {
      return true;
    }
    if (!seen.add(s)) {
      return false;
    }
    return s.next().stream().anyMatch(n -> reachesAnEnd(n, seen));
  }
}
