package io.rackroll.controller.store;

import io.rackroll.proto.v1.LifecyclePhase;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where one host stands in one deployment, and every move it may make, in one table. The first
 * seven are the controller's own; the rest are the phases the host's agent reports
 * ({@link LifecyclePhase}), taken as they come. Stored and shown by name ("CHECKING_HEALTH").
 *
 * <p>Two kinds of change are checked against the table. The rollout engine's own moves (sending,
 * timing out, failing a health gate) must be in it: anything else is a bug and throws. A host's
 * report is an input: one the table does not allow (a report for a host that was never sent its
 * command, or one that has ended) is ignored, and the host keeps the phase it has.
 */
public enum HostPhase {
  /** Planned, in a batch not started yet. */
  PENDING(null),
  /** Its batch started while its agent was not connected ({@code --offline wait}). */
  WAITING(null),
  /** Its command is recorded as sent; no report yet. */
  SENT(null),
  /** Not changed: unchanged already, unfit for the release, or offline with {@code --offline skip}. */
  SKIPPED(null),
  /** Its agent did not connect in time (or {@code --offline fail}). */
  UNREACHABLE(null),
  /** Sent, and no progress within {@code --host-timeout}. */
  TIMED_OUT(null),
  /** Active, then unhealthy or disconnected during its batch's health gate. */
  UNHEALTHY(null),
  DOWNLOADING(LifecyclePhase.DOWNLOADING),
  VERIFYING(LifecyclePhase.VERIFYING),
  CHECKING_HOST(LifecyclePhase.CHECKING_HOST),
  INSTALLING(LifecyclePhase.INSTALLING),
  ACTIVATING(LifecyclePhase.ACTIVATING),
  CHECKING_HEALTH(LifecyclePhase.CHECKING_HEALTH),
  ROLLING_BACK(LifecyclePhase.ROLLING_BACK),
  APPLYING(LifecyclePhase.APPLYING),
  ACTIVE(LifecyclePhase.ACTIVE),
  ROLLED_BACK(LifecyclePhase.ROLLED_BACK),
  FAILED(LifecyclePhase.FAILED);

  private final LifecyclePhase reported;

  HostPhase(LifecyclePhase reported) {
    this.reported = reported;
  }

  /** Every phase an agent reports. */
  private static final Set<HostPhase> REPORTED = EnumSet.range(DOWNLOADING, FAILED);
  /** Phases a host does not leave by itself within its deployment (a revert is tracked apart). */
  private static final Set<HostPhase> DONE = EnumSet.of(ACTIVE, ROLLED_BACK, FAILED, UNREACHABLE, TIMED_OUT,
      SKIPPED, UNHEALTHY);
  /** Phases that count against the failure budget. */
  private static final Set<HostPhase> FAILURES = EnumSet.of(FAILED, ROLLED_BACK, UNREACHABLE, TIMED_OUT, UNHEALTHY);

  /**
   * Every legal move. A host sent its command takes whatever its agent reports next, in any order
   * the agent's own table allows (after a reconnect it reports only where it is now); it may be
   * skipped as unfit when it refuses the release, and it times out without progress. The only move
   * out of an ended phase is ACTIVE to UNHEALTHY, in the health gate.
   */
  private static final Map<HostPhase, Set<HostPhase>> NEXT = table();

  private static Map<HostPhase, Set<HostPhase>> table() {
    Map<HostPhase, Set<HostPhase>> next = new java.util.EnumMap<>(HostPhase.class);
    Set<HostPhase> unsent = EnumSet.of(SENT, WAITING, SKIPPED, UNREACHABLE);
    next.put(PENDING, unsent);
    next.put(WAITING, unsent);
    Set<HostPhase> sent = EnumSet.copyOf(REPORTED);
    sent.addAll(EnumSet.of(TIMED_OUT, SKIPPED));
    // A host whose command could not go out after all is handled as offline.
    Set<HostPhase> fromSent = EnumSet.copyOf(sent);
    fromSent.addAll(EnumSet.of(WAITING, UNREACHABLE));
    next.put(SENT, fromSent);
    for (HostPhase p : REPORTED) {
      next.put(p, p.done() ? EnumSet.noneOf(HostPhase.class) : sent);
    }
    next.put(ACTIVE, EnumSet.of(UNHEALTHY));
    for (HostPhase p : EnumSet.of(SKIPPED, UNREACHABLE, TIMED_OUT, UNHEALTHY)) {
      next.put(p, EnumSet.noneOf(HostPhase.class));
    }
    return java.util.Collections.unmodifiableMap(next);
  }

  /** The phase a host's report names; empty for one this controller does not know (a newer agent's). */
  public static Optional<HostPhase> reported(String name) {
    return Arrays.stream(values()).filter(p -> p.reported != null && p.reported.name().equals(name)).findFirst();
  }

  /** The phase a stored or shown name names; empty for an unknown name. */
  public static Optional<HostPhase> named(String name) {
    return Arrays.stream(values()).filter(p -> p.name().equals(name)).findFirst();
  }

  /** The agent's phase this one is, or null for the controller's own. */
  public LifecyclePhase lifecycle() {
    return reported;
  }

  /** The host has ended its part: no report moves it on (a health gate may still fail an ACTIVE host). */
  public boolean done() {
    return DONE.contains(this);
  }

  /** Counts against the deployment's failure budget. */
  public boolean failure() {
    return FAILURES.contains(this);
  }

  /** Its command went out and it has not ended: the deployment waits for it. */
  public boolean inFlight() {
    return this != PENDING && this != WAITING && !done();
  }

  public Set<HostPhase> next() {
    return NEXT.get(this);
  }

  /** Whether the table allows moving from this phase to {@code next} (staying counts as allowed). */
  public boolean allows(HostPhase next) {
    return next == this || NEXT.get(this).contains(next);
  }

  /** Throws unless the table allows the move: for the engine's own moves, where a refusal is a bug. */
  public void checkTransition(HostPhase next) {
    if (!allows(next)) {
      throw new IllegalStateException("host phase " + this + " -> " + next + " is not a legal move");
    }
  }

  /** Names of the phases that count against the failure budget, for queries over stored phases. */
  public static Set<String> failureNames() {
    return FAILURES.stream().map(Enum::name).collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
  }
}
