package io.rackroll.controller.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** A host's revert states: every move the table allows works, every other one is refused. */
class RevertStateTest {
  @Test
  void everyPairOfStatesIsAllowedExactlyWhenTheTableSaysSo() {
    for (RevertState from : RevertState.values()) {
      for (RevertState to : RevertState.values()) {
        if (from == to || from.next().contains(to)) {
          assertThatCode(() -> from.checkTransition(to)).as(from + " -> " + to).doesNotThrowAnyException();
        } else {
          assertThatThrownBy(() -> from.checkTransition(to)).as(from + " -> " + to)
              .hasMessage("revert state " + from + " -> " + to + " is not a legal move");
        }
      }
    }
    // A revert ends REVERTED or FAILED; only a host found on the release again is sent back again,
    // and one counted failed that arrives after all is REVERTED.
    assertThat(RevertState.REVERTED.next()).containsExactly(RevertState.SENT);
    assertThat(RevertState.FAILED.next()).containsExactlyInAnyOrder(RevertState.SENT, RevertState.REVERTED);
    assertThat(RevertState.REVERTED.open()).isFalse();
  }

  @Test
  void labelsAreWhatTheStoreAlwaysHeld() {
    assertThat(RevertState.NONE.label()).isEmpty();
    for (RevertState s : RevertState.values()) {
      assertThat(RevertState.of(s.label())).isEqualTo(s);
    }
    assertThat(RevertState.SENT.open()).isTrue();
    assertThat(RevertState.REVERTED.open()).isFalse();
  }
}
