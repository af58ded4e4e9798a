package io.rackroll.controller.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.strategy.Strategy;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What differs between kinds of deployment, in one place. */
class DeploymentKindTest {
  @Test
  void labelsAreTheStoredKindsAndTheEnginesConstants() {
    assertThat(DeploymentKind.of(Rollouts.DEPLOY)).isEqualTo(DeploymentKind.DEPLOY);
    assertThat(DeploymentKind.of(Rollouts.ROLLBACK)).isEqualTo(DeploymentKind.ROLLBACK);
    assertThat(DeploymentKind.of(Rollouts.RECONFIGURE)).isEqualTo(DeploymentKind.RECONFIGURE);
    assertThat(DeploymentKind.of(Rollouts.FLAGS)).isEqualTo(DeploymentKind.FLAGS);
    for (DeploymentKind k : DeploymentKind.values()) {
      assertThat(DeploymentKind.of(k.label())).isEqualTo(k);
    }
  }

  @Test
  void eachKindSaysWhatItDoesAndWhatAppliesToIt() {
    assertThat(DeploymentKind.DEPLOY.describe("web", "2", Map.of())).isEqualTo("web@2");
    assertThat(DeploymentKind.ROLLBACK.describe("web", "", Map.of())).isEqualTo("web (previous release)");
    assertThat(DeploymentKind.RECONFIGURE.describe("web", "2", Map.of())).isEqualTo("web@2 (reconfigure)");
    assertThat(DeploymentKind.FLAGS.describe("web", "", Map.of("a", "true"))).isEqualTo("web flags a=true");
    assertThat(DeploymentKind.ROLLBACK.keepsToWindows()).as("rollbacks are always allowed").isFalse();
    assertThat(DeploymentKind.FLAGS.keepsToWindows()).isTrue();
    assertThat(DeploymentKind.ROLLBACK.strategyDefaults()).isEqualTo(Strategy.ROLLBACK_DEFAULTS);
    assertThat(DeploymentKind.RECONFIGURE.installs()).isTrue();
    assertThat(DeploymentKind.ROLLBACK.installs()).isFalse();
    assertThat(DeploymentKind.RECONFIGURE.backTo("web@1")).isEqualTo("back to web@1 with its earlier values");
    assertThat(DeploymentKind.FLAGS.reverted("2")).isEqualTo("flags back");
  }
}
