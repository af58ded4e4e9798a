package io.rackroll.controller.rollout;

import io.rackroll.controller.env.Environments;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.DeploymentStore.EnvironmentRun;
import java.util.List;
import java.util.Optional;

/**
 * The promotion rule: a release goes to an environment only after it completed in the one before
 * it in the lifecycle. The first environment takes any pushed release.
 */
public final class Promotions {
  private Promotions() {}

  /**
   * Why {@code app@version} may not be promoted to {@code target} now, if it may not.
   *
   * @param runs the app's promotions, newest first
   */
  public static Optional<String> refusal(Environments envs, String target, String app, String version,
      List<EnvironmentRun> runs) {
    if (envs.get(target).isEmpty()) {
      return Optional.of(envs.byName().isEmpty()
          ? "no environments are defined; apply a file first with 'rackroll env apply -f FILE'"
          : "no environment \"" + target + "\" (defined: " + String.join(", ", envs.byName().keySet()) + ")");
    }
    if (!envs.lifecycle().contains(target)) {
      return Optional.of(target + " is not in the lifecycle (" + (envs.lifecycle().isEmpty() ? "none declared"
          : String.join(" -> ", envs.lifecycle())) + "); add it to \"lifecycle\" in the environments file, or deploy"
          + " to its agents with 'rackroll deploy'");
    }
    Optional<String> before = envs.before(target);
    if (before.isEmpty()) {
      return Optional.empty();
    }
    String previous = before.get();
    String release = app + "@" + version;
    List<EnvironmentRun> there = runs.stream()
        .filter(r -> r.version().equals(version) && r.environment().equals(previous)).toList();
    if (there.stream().anyMatch(r -> r.state().equals("completed"))) {
      return Optional.empty();
    }
    if (there.isEmpty()) {
      return Optional.of(release + " has not been promoted to " + previous + " (before " + target
          + " in the lifecycle); promote it there first: rackroll promote " + release + " --to " + previous);
    }
    EnvironmentRun last = there.get(0);
    if (!Deployment.ENDED.contains(last.state())) {
      return Optional.of(release + " is still rolling out in " + previous + " (deployment " + last.deploymentId()
          + ", " + last.state() + "); promote it once that completes");
    }
    String failedOn = "failed on " + last.failed() + " of " + last.hosts() + " hosts";
    String how = switch (last.state()) {
      case "failed" -> failedOn;
      case "rolled_back" -> failedOn + " and was rolled back";
      case "rollback_failed" -> failedOn + " and its rollback failed";
      default -> "was " + last.state();
    };
    return Optional.of(release + " has not completed in " + previous + "; last attempt " + how + " (deployment "
        + last.deploymentId() + ")");
  }
}
