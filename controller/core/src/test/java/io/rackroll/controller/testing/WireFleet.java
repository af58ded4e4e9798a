package io.rackroll.controller.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.GetDeploymentRequest;
import io.rackroll.proto.v1.JobUpdate;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Hosts played at the wire against a {@link TestController}, for tests of the rollout state
 * machine: each test sends exactly the reports it needs and reads deployments back.
 */
public final class WireFleet {
  private static final Set<String> ENDED = Set.of("completed", "failed", "rolled_back", "rollback_failed", "aborted");
  private final TestController controller;

  public WireFleet(TestController controller) {
    this.controller = controller;
  }

  /** Enrolls {@code id} with {@code labels} and opens its stream; returns once the controller welcomed it. */
  public RawAgent.Stream connect(String id, Map<String, String> labels) throws Exception {
    return connect(id, labels, RawAgent.facts("host-" + id, "unknown"));
  }

  /** As above, the host reporting {@code facts}. */
  public RawAgent.Stream connect(String id, Map<String, String> labels, io.rackroll.proto.v1.Facts facts)
      throws Exception {
    RawAgent agent = new RawAgent(id);
    agent.enroll(controller, controller.token(labels, 1));
    RawAgent.Stream s = agent.connect(controller, id, facts);
    assertThat(s.next().hasWelcome()).isTrue();
    return s;
  }

  /** Waits for this host's deploy command. */
  public static Deploy command(RawAgent.Stream s) throws InterruptedException {
    while (true) {
      ControllerMessage m = s.next();
      if (m.hasCommand() && m.getCommand().getKindCase() == Command.KindCase.DEPLOY) {
        return m.getCommand().getDeploy();
      }
    }
  }

  public static void report(RawAgent.Stream s, Deploy job, String phase) {
    report(s, job, phase, "", "");
  }

  public static void report(RawAgent.Stream s, Deploy job, String phase, String kind, String failure) {
    report(s, job, phase, kind, failure, phase.equals("ACTIVE") ? job.getVersion() : "");
  }

  /** With the release the host runs after the job ({@code current} symlink): for a failure, where it went back to. */
  public static void report(RawAgent.Stream s, Deploy job, String phase, String kind, String failure, String current) {
    s.send(AgentMessage.newBuilder().setJob(JobUpdate.newBuilder().setDeploymentId(job.getDeploymentId())
        .setApp(job.getApp()).setVersion(job.getVersion()).setPhase(phase).setFailureKind(kind).setFailure(failure)
        .setCurrentVersion(current).setAtEpochMillis(System.currentTimeMillis())
        .setCurrentConfigDigest(current.equals(job.getVersion()) ? job.getConfigDigest() : ""))
        .build());
  }

  /** Takes the host's next deploy command and reports it done. */
  public static Deploy activate(RawAgent.Stream s) throws InterruptedException {
    Deploy job = command(s);
    report(s, job, "ACTIVE");
    return job;
  }

  public DeploymentRecord deployment(String id) {
    return controller.admin().getDeployment(GetDeploymentRequest.newBuilder().setId(id).build());
  }

  public DeploymentHost host(String id, String agentId) {
    return deployment(id).getHostsList().stream().filter(h -> h.getAgentId().equals(agentId)).findFirst().orElseThrow();
  }

  public DeploymentHost awaitHost(String id, String agentId, String phase) {
    await(agentId + " " + phase).atMost(10, TimeUnit.SECONDS).until(() -> host(id, agentId).getPhase().equals(phase));
    return host(id, agentId);
  }

  public DeploymentRecord awaitState(String id, String state) {
    await(id + " " + state).atMost(10, TimeUnit.SECONDS).until(() -> deployment(id).getState().equals(state));
    return deployment(id);
  }

  public DeploymentRecord awaitEnd(String id) {
    await(id + " ends").atMost(10, TimeUnit.SECONDS).until(() -> ENDED.contains(deployment(id).getState()));
    return deployment(id);
  }
}
