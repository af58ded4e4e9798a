package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Deployments: each one's plan, strategy and state, every host's part and every transition it
 * made. The rollout engine writes it; the admin service, promotions and metrics read it.
 */
public interface DeploymentStore {
  /** Records a new deployment: its plan (each host's batch and starting phase) and strategy. */
  void createDeployment(Deployment deployment);

  Optional<Deployment> deployment(String id);

  /** The newest {@code limit} deployments, newest first, with their hosts. */
  List<Deployment> recent(int limit);

  /** Deployments that have not ended, oldest first: what a restarted controller resumes. */
  List<Deployment> activeDeployments();

  /** Moves a deployment to {@code state} at {@code batch}. */
  void deploymentState(String id, String state, int batch, String reason, Instant at);

  /** Lets a deployment run outside change windows from now on, for {@code reason}. */
  void overrideWindows(String deploymentId, String reason);

  /** Moves a host within its deployment, recording the transition. */
  void hostPhase(String deploymentId, String agentId, HostPhase phase, String failureKind, String failure, Instant at);

  /**
   * Records in a host's history what its agent reported after the deployment had counted it
   * (a late report: {@code what} is "LATE_ACTIVE" and the like), without changing its phase.
   */
  void hostNote(String deploymentId, String agentId, String what, String detail, Instant at);

  /**
   * Records the release a host went to in a deployment that named none for it (a rollback to each
   * host's previous release); a host whose release is recorded keeps it.
   */
  void hostVersion(String deploymentId, String agentId, String version);

  /** Moves a host's revert (after a halt), recording the transition as REVERT_{@code revert}. */
  void hostRevert(String deploymentId, String agentId, String revert, String detail, Instant at);

  /** A deployment's recorded host transitions, in order. */
  List<Transition> transitions(String deploymentId);

  /** A host's recorded transitions over every deployment, newest first. */
  List<Transition> history(String agentId, int limit);

  /** The newest {@code limit} flag changes of {@code app}. */
  List<Deployment> flagChanges(String app, int limit);

  /** The deployments of {@code app} that promoted a release to an environment, newest first. */
  List<EnvironmentRun> environmentRuns(String app);

  /** One promotion: how it ended (or that it runs), over how many hosts, and how many failed. */
  record EnvironmentRun(String deploymentId, String version, String environment, String state, Instant at, int hosts,
      int failed) {}

  /** How many deployments are in each state. */
  Map<String, Integer> deploymentCounts();

  /** Hosts of unfinished deployments by phase. */
  Map<String, Integer> activeHostPhases();

  /** The latest host failures (phases FAILED, ROLLED_BACK, UNHEALTHY, TIMED_OUT, UNREACHABLE), newest first. */
  List<Transition> recentFailures(int limit);
}
