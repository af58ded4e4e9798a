package io.rackroll.controller.store;

import io.rackroll.proto.v1.Facts;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the controller persists. One interface so that the embedded file database and
 * PostgreSQL (for replicas) are interchangeable; {@code StoreContract} in the tests is the
 * behaviour every backend must show.
 *
 * <p>Implementations are thread-safe; each method is one transaction.
 */
public interface Store extends AutoCloseable {

  void createToken(NewToken token);

  /**
   * Spends one use of a token if it exists, its secret hash matches, it has not expired at
   * {@code now} and has uses left. Atomic: two agents racing for a single-use token cannot both win.
   */
  Redemption redeemToken(String tokenId, String secretHash, Instant now);

  /**
   * Records a newly issued certificate. A new agent starts {@link ConnectionState#ENROLLED}; an
   * enrollment that {@link Enrollment#replaces} an agent takes over its row (labels replaced,
   * revocation lifted) and refuses every certificate issued for it before. Returns the serials it
   * refused (none for a new agent).
   *
   * @throws StoreException for a new agent whose id exists, or a replacement of one that does not
   */
  List<String> enroll(Enrollment enrollment);

  /** Serials of the unexpired certificates issued to {@code agentId} and not refused yet. */
  List<String> certificatesOf(String agentId, Instant now);

  /** Agents revoked by an admin (and not since given to a new host): refused whatever certificate they show. */
  java.util.Set<String> revokedAgents();

  /**
   * Records a renewed certificate, unless the agent is revoked or {@code presentedSerial} is
   * neither its current nor its previous certificate; returns whether it was recorded. Renewing
   * from the current certificate keeps that one as the previous; renewing again from the previous
   * one (the agent lost the answer) replaces only the current.
   */
  boolean renewed(String agentId, String presentedSerial, String serial, Instant notAfter, String caFingerprint);

  /**
   * Marks the agent {@link ConnectionState#REVOKED} and refuses every unexpired certificate ever
   * issued to it. Returns the serials refused now, or empty if there is no such agent.
   */
  Optional<List<String>> revoke(String agentId, String by, Instant at);

  /** Whether the certificate with this serial was ever revoked (expired or not). */
  boolean certificateRevoked(String serial);

  /** Serials of revoked certificates that have not expired at {@code now}. */
  java.util.Set<String> revokedSerials(Instant now);

  /** The agent's stream is open: records version, facts and the time. */
  void connected(String agentId, String agentVersion, Facts facts, Instant at);

  void factsChanged(String agentId, Facts facts);

  /** Moves an agent to {@code state} (from a stream closing or the stale sweep); a revoked agent stays revoked. */
  void stateChanged(String agentId, ConnectionState state, Instant at);

  /** Batched heartbeat bookkeeping: the latest time each agent was heard from. */
  void lastSeen(Map<String, Instant> lastSeen);

  /**
   * Marks every agent that was connected or stale as disconnected: after a controller restart no
   * stream survives. Returns how many changed.
   */
  int disconnectAll(Instant at);

  List<StoredAgent> agents();

  Optional<StoredAgent> agent(String agentId);

  /** Ids of agents reporting this system serial, for the duplicate-serial warning. */
  List<String> agentsWithSystemSerial(String serial);

  /**
   * Records a release unless name@version exists. Returns the release now recorded under that
   * name@version: {@code release} itself, or the one that was there first (the caller compares
   * digests). Atomic, so two racing pushes agree on one winner.
   */
  StoredRelease addRelease(StoredRelease release);

  Optional<StoredRelease> release(String name, String version);

  /** Releases, newest push first; all applications when {@code name} is empty. */
  List<StoredRelease> releases(String name);

  /** Records a new deployment: its plan (each host's batch and starting phase) and strategy. */
  void createDeployment(Deployment deployment);

  Optional<Deployment> deployment(String id);

  /** The newest {@code limit} deployments, newest first, with their hosts. */
  List<Deployment> deployments(int limit);

  /** Deployments that have not ended, oldest first: what a restarted controller resumes. */
  List<Deployment> activeDeployments();

  /** Moves a deployment to {@code state} at {@code batch}. */
  void deploymentState(String id, String state, int batch, String reason, Instant at);

  /** Lets a deployment run outside change windows from now on, for {@code reason}. */
  void overrideWindows(String deploymentId, String reason);

  /** The deployments of {@code app} that promoted a release to an environment, newest first. */
  List<EnvironmentRun> environmentRuns(String app);

  /** One promotion: how it ended (or that it runs), over how many hosts, and how many failed. */
  record EnvironmentRun(String deploymentId, String version, String environment, String state, Instant at, int hosts,
      int failed) {}

  /** Keeps {@code yaml} as the environments file in force; returns its version (1, 2, ...). */
  int applyEnvironments(String yaml, String by, Instant at);

  /** The environments file in force, if one was applied. */
  Optional<EnvironmentFile> environmentFile();

  record EnvironmentFile(int version, String yaml, String appliedBy, Instant appliedAt) {}

  /** Sets a secret's sealed value (see {@code env.SecretBox}); never a plain one. */
  void putSecret(StoredSecret secret);

  /** Removes a secret; returns whether there was one. */
  boolean deleteSecret(String environment, String name);

  /** Every secret, sealed. */
  List<StoredSecret> secrets();

  record StoredSecret(String environment, String name, String sealed, String updatedBy, Instant updatedAt) {}

  /** Moves a host within its deployment, recording the transition. */
  void hostPhase(String deploymentId, String agentId, HostPhase phase, String failureKind, String failure, Instant at);

  /** Moves a host's revert (after a halt), recording the transition as REVERT_{@code revert}. */
  void hostRevert(String deploymentId, String agentId, String revert, String detail, Instant at);

  /** A deployment's recorded host transitions, in order. */
  List<Transition> transitions(String deploymentId);

  /** A host's recorded transitions over every deployment, newest first. */
  List<Transition> history(String agentId, int limit);

  /**
   * Records a host's report as the app's latest state on that host. Its place in a deployment is
   * the rollout's to decide, through {@link #hostPhase}.
   */
  void hostJob(HostJob job);

  /** Every host's last report about {@code app}, by agent id. */
  Map<String, HostApp> hostApps(String app);

  /** Records the flags a host reports for an app, unless a newer report is stored. */
  void hostFlags(FlagsReport report);

  /** Every host's flags of {@code app} as last reported, and when, by agent id. */
  Map<String, ReportedFlags> hostFlags(String app);

  /** The newest {@code limit} flag changes of {@code app}. */
  List<Deployment> flagChanges(String app, int limit);

  /**
   * Merges {@code changes} (each value JSON text; {@code null} removes the flag) into
   * {@code environment}'s flags of {@code app}: what a completed change to the whole environment
   * leaves, and what a host new to the app starts with there. Merging the same changes again
   * changes nothing.
   */
  void environmentFlags(String environment, String app, Map<String, String> changes, Instant at);

  /** Each environment's flags of {@code app}, by environment; environments without any are absent. */
  Map<String, Map<String, String>> environmentFlags(String app);

  void audit(AuditEntry entry);

  /** The newest {@code limit} audit entries, newest first. */
  List<AuditEntry> audit(int limit);

  /** Whether a deployment selected this agent for the release whose artifact has this digest. */
  boolean agentMayFetch(String agentId, String digest);

  /** Records the last periodic health of an app on a host, as one line. */
  void appHealth(String agentId, String app, String line, Instant at);

  /** The last health line of each app on the agent, by app. */
  Map<String, String> appHealth(String agentId);

  /** The latest state of every app on the agent. */
  List<HostJob> agentApps(String agentId);

  /** How many agents are in each connection state (label to count), for metrics and status. */
  Map<String, Integer> agentCounts();

  /** How many deployments are in each state. */
  Map<String, Integer> deploymentCounts();

  /** Hosts of unfinished deployments by phase. */
  Map<String, Integer> activeHostPhases();

  /** The latest host failures (phases FAILED, ROLLED_BACK, UNHEALTHY, TIMED_OUT, UNREACHABLE), newest first. */
  List<Transition> recentFailures(int limit);

  @Override
  void close();

  /** Thrown when the database fails; the message names the operation. */
  final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
