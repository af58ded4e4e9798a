package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.proto.v1.LifecyclePhase;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A host's phases in a deployment: the table, what agents report, and what counts as done or failed. */
class HostPhaseTest {
  private static final Set<HostPhase> REPORTED = EnumSet.range(HostPhase.DOWNLOADING, HostPhase.FAILED);

  @Test
  void everyPairOfPhasesIsAllowedExactlyWhenTheTableSaysSo() {
    for (HostPhase from : HostPhase.values()) {
      for (HostPhase to : HostPhase.values()) {
        if (from == to || from.next().contains(to)) {
          assertThat(from.allows(to)).as(from + " -> " + to).isTrue();
          assertThatCode(() -> from.checkTransition(to)).as(from + " -> " + to).doesNotThrowAnyException();
        } else {
          assertThat(from.allows(to)).as(from + " -> " + to).isFalse();
          assertThatThrownBy(() -> from.checkTransition(to)).as(from + " -> " + to)
              .hasMessage("host phase " + from + " -> " + to + " is not a legal move");
        }
      }
    }
  }

  @Test
  void aHostSentItsCommandTakesWhateverItsAgentReportsAndOnlyThen() {
    // After a reconnect an agent reports only where it is now: any reported phase may follow SENT
    // or another phase in flight, in either direction (a download starts over after a bad digest).
    assertThat(HostPhase.SENT.next()).containsAll(REPORTED);
    assertThat(HostPhase.VERIFYING.allows(HostPhase.DOWNLOADING)).isTrue();
    assertThat(HostPhase.DOWNLOADING.allows(HostPhase.ACTIVE)).isTrue();
    // A report for a host never sent its command is stray: the table does not take it.
    for (HostPhase unsent : EnumSet.of(HostPhase.PENDING, HostPhase.WAITING)) {
      assertThat(unsent.next()).as(unsent.name()).doesNotContainAnyElementsOf(REPORTED);
    }
    // An ended host takes no report: a late one after a timeout changes nothing.
    for (HostPhase p : HostPhase.values()) {
      if (p.done()) {
        assertThat(p.next()).as(p.name()).doesNotContainAnyElementsOf(REPORTED);
      }
    }
    // The one move out of an ended phase: the health gate failing an active host.
    assertThat(HostPhase.ACTIVE.next()).containsExactly(HostPhase.UNHEALTHY);
    assertThat(HostPhase.UNHEALTHY.next()).isEmpty();
  }

  @Test
  void everyPhaseAnAgentReportsIsOneTheControllerKnowsByTheSameName() {
    for (LifecyclePhase p : LifecyclePhase.values()) {
      if (p == LifecyclePhase.LIFECYCLE_PHASE_UNSPECIFIED || p == LifecyclePhase.UNRECOGNIZED) {
        continue;
      }
      HostPhase h = HostPhase.reported(p.name()).orElseThrow();
      assertThat(h.name()).isEqualTo(p.name());
      assertThat(h.lifecycle()).isEqualTo(p);
      assertThat(REPORTED).contains(h);
    }
    assertThat(HostPhase.reported("PENDING")).as("the controller's own phase is never a report").isEmpty();
    assertThat(HostPhase.reported("LIFECYCLE_PHASE_UNSPECIFIED")).isEmpty();
    assertThat(HostPhase.reported("REBOOTING")).as("a newer agent's phase").isEmpty();
    assertThat(HostPhase.reported("")).isEmpty();
  }

  @Test
  void storedNamesReadBackAndWhatCountsIsWhatTheStoreAlwaysCounted() {
    for (HostPhase p : HostPhase.values()) {
      assertThat(HostPhase.named(p.name())).contains(p);
    }
    assertThat(HostPhase.named("active")).isEmpty();
    assertThat(HostPhase.failureNames()).containsExactly("FAILED", "ROLLED_BACK", "TIMED_OUT", "UNHEALTHY",
        "UNREACHABLE");
    assertThat(Arrays.stream(HostPhase.values()).filter(HostPhase::done)).containsExactlyInAnyOrder(
        HostPhase.ACTIVE, HostPhase.ROLLED_BACK, HostPhase.FAILED, HostPhase.UNREACHABLE, HostPhase.TIMED_OUT,
        HostPhase.SKIPPED, HostPhase.UNHEALTHY);
    assertThat(Arrays.stream(HostPhase.values()).filter(HostPhase::inFlight)).containsExactlyInAnyOrder(
        HostPhase.SENT, HostPhase.DOWNLOADING, HostPhase.VERIFYING, HostPhase.CHECKING_HOST, HostPhase.INSTALLING,
        HostPhase.ACTIVATING, HostPhase.CHECKING_HEALTH, HostPhase.ROLLING_BACK, HostPhase.APPLYING);
  }
}
