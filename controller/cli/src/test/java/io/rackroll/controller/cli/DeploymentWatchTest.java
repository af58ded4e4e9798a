package io.rackroll.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** How a deployment reads in 'deployment show' and at the end of a watch. */
class DeploymentWatchTest {
  private static final DeploymentRecord HALTED = DeploymentRecord.newBuilder().setId("d-1").setKind("deploy")
      .setApp("web").setVersion("2").setState("rolled_back").setBatches(2).setBatch(0).setReason("failure budget spent")
      .addHosts(DeploymentHost.newBuilder().setAgentId("ag-a").setPhase("ACTIVE").setBatch(0).setBeforeVersion("1")
          .setRevert("REVERTED"))
      .addHosts(DeploymentHost.newBuilder().setAgentId("ag-b").setPhase("ROLLED_BACK").setBatch(0).setBeforeVersion("1")
          .setFailureKind("health_failed").setFailure("exec hooks/health.sh exited with 1"))
      .addHosts(DeploymentHost.newBuilder().setAgentId("ag-c").setPhase("ACTIVE").setBatch(0).setBeforeVersion("1")
          .setRevert("FAILED"))
      .addHosts(DeploymentHost.newBuilder().setAgentId("ag-d").setPhase("PENDING").setBatch(1).setBeforeVersion("1"))
      .build();

  @Test
  void aHostTakenBackSaysWhereItIsNow() {
    String shown = printed(out -> DeploymentWatch.print(HALTED, out));
    assertThat(shown).containsPattern("ag-a +ACTIVE +back on 1\n")
        .containsPattern("ag-b +ROLLED_BACK +\\[health_failed] exec hooks/health.sh exited with 1\n")
        .containsPattern("ag-c +ACTIVE +could not go back to 1\n")
        .doesNotContain("revert reverted");
  }

  @Test
  void hostsNeverStartedAreCountedAsSuchAtTheEnd() {
    String summary = printed(out -> DeploymentWatch.summary(HALTED, out));
    assertThat(summary.strip()).isEqualTo("deploy d-1 of web@2 rolled_back: 2 active, 1 not started, 1 rolled back;"
        + " 1 returned to their release before (failure budget spent)");
  }

  private static String printed(java.util.function.Consumer<PrintStream> print) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    print.accept(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
