package io.rackroll.controller.strategy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StrategyTest {
  @Test
  void defaultsDifferForDeploysAndEmergencyRollbacks() {
    Strategy deploy = Strategy.of(Map.of(), Strategy.DEPLOY_DEFAULTS);
    assertThat(deploy.batch()).isEqualTo(new Amount(10, true));
    assertThat(deploy.canary()).isEqualTo(new Amount(1, false));
    assertThat(deploy.healthGate()).isEqualTo(Duration.ofSeconds(30));
    assertThat(deploy.autoRollback()).isTrue();
    assertThat(deploy.offline()).isEqualTo(Strategy.Offline.WAIT);

    Strategy rollback = Strategy.of(Map.of(), Strategy.ROLLBACK_DEFAULTS);
    assertThat(rollback.batch()).isEqualTo(new Amount(100, true));
    assertThat(rollback.canary().value()).isZero();
    assertThat(rollback.healthGate()).isZero();
    assertThat(rollback.autoRollback()).as("never back onto the release being left").isFalse();
  }

  @Test
  void optionsRoundTripThroughTheirCanonicalText() {
    Map<String, String> given = Map.of("batch", "25%", "maxPerRack", "1", "healthGate", "90s", "offline", "SKIP",
        "autoRollback", "false");
    Strategy s = Strategy.of(given, Strategy.DEPLOY_DEFAULTS);
    assertThat(s.toOptions()).containsEntry("healthGate", "90s").containsEntry("offline", "skip")
        .containsEntry("batch", "25%").containsEntry("autoRollback", "false");
    assertThat(Strategy.of(s.toOptions(), Strategy.ROLLBACK_DEFAULTS)).isEqualTo(s);
  }

  @Test
  void badValuesNameTheOptionAsFileAndFlagSpellIt() {
    assertThatThrownBy(() -> Strategy.of(Map.of("batch", "ten"), Strategy.DEPLOY_DEFAULTS))
        .isInstanceOf(StrategyException.class)
        .hasMessage("batch (--batch): expected a number of hosts like 3 or a share like 10% (0-100%), got \"ten\"");
    assertThatThrownBy(() -> Strategy.of(Map.of("maxFailures", "120%"), Strategy.DEPLOY_DEFAULTS))
        .hasMessageStartingWith("maxFailures (--max-failures): expected");
    assertThatThrownBy(() -> Strategy.of(Map.of("maxPerRack", "-1"), Strategy.DEPLOY_DEFAULTS))
        .hasMessage("maxPerRack (--max-per-rack): expected a whole number of hosts (0 for no limit), got \"-1\"");
    assertThatThrownBy(() -> Strategy.of(Map.of("healthGate", "30 seconds"), Strategy.DEPLOY_DEFAULTS))
        .hasMessageStartingWith("healthGate (--health-gate): 30 seconds (expected: a number and a unit");
    assertThatThrownBy(() -> Strategy.of(Map.of("offline", "maybe"), Strategy.DEPLOY_DEFAULTS))
        .hasMessage("offline (--offline): expected wait, skip or fail, got \"maybe\"");
    assertThatThrownBy(() -> Strategy.of(Map.of("byRack", "yes"), Strategy.DEPLOY_DEFAULTS))
        .hasMessage("byRack (--by-rack): expected true or false, got \"yes\"");
    assertThatThrownBy(() -> Strategy.of(Map.of("batch", "0"), Strategy.DEPLOY_DEFAULTS))
        .hasMessage("batch (--batch): must be at least 1 host or 1%");
    assertThatThrownBy(() -> Strategy.of(Map.of("batchSize", "3"), Strategy.DEPLOY_DEFAULTS))
        .hasMessageStartingWith("unknown deployment option \"batchSize\" (expected one of: batch, canary,");
    assertThatThrownBy(() -> Strategy.of(Map.of("failureDomain", "rack zone"), Strategy.DEPLOY_DEFAULTS))
        .hasMessage("failureDomain (--failure-domain): expected a label key like rack, got \"rack zone\"");
  }
}
