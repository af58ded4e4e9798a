package io.rackroll.controller.rollout;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where a deployment stands, and every move it may make, in one table: the rollout engine checks
 * each change against it, as the agent's {@code Phase} does for a host. Stored and shown by
 * {@link #label()} ("awaiting_approval"), which is what the store and the CLI always used.
 */
enum DeploymentState {
  /** Sending batches and waiting for their hosts and health gates. */
  RUNNING,
  /** The canary is done; an admin approves the rest ({@code deployment approve}). */
  AWAITING_APPROVAL,
  /** The next batch's environment is outside its change windows; goes on when one opens. */
  WAITING_WINDOW,
  /** Paused by an admin: reports still land, nothing new starts. */
  PAUSED,
  /** The failure budget is spent without auto-rollback: waits for hosts in flight, then fails. */
  HALTING,
  /** Aborted by an admin: waits for hosts in flight, then ends aborted. */
  ABORTING,
  /** Returning changed hosts to their release before (budget spent, or abort --rollback). */
  ROLLING_BACK,
  COMPLETED,
  FAILED,
  ROLLED_BACK,
  ROLLBACK_FAILED,
  ABORTED;

  /** The states a running deployment may leave for when it stops: a halt, an abort, a rollback. */
  private static final Set<DeploymentState> STOPPING = EnumSet.of(HALTING, ABORTING, ROLLING_BACK);

  /** What an admin's abort leads to, with or without --rollback. */
  private static final Set<DeploymentState> ABORTED_BY_ADMIN = EnumSet.of(ABORTING, ROLLING_BACK);

  /**
   * Every legal move, and only those the engine makes. A state may also be set again (RUNNING to
   * RUNNING records the next batch). The failure budget halts or rolls back a deployment that
   * runs, or one paused while hosts were in flight (their reports still spend it); one awaiting
   * approval or a window has no host in flight, so only an admin stops it.
   */
  private static final Map<DeploymentState, Set<DeploymentState>> NEXT = Map.ofEntries(
      Map.entry(RUNNING, union(EnumSet.of(AWAITING_APPROVAL, WAITING_WINDOW, PAUSED, COMPLETED), STOPPING)),
      Map.entry(AWAITING_APPROVAL, union(EnumSet.of(RUNNING, PAUSED), ABORTED_BY_ADMIN)),
      Map.entry(WAITING_WINDOW, union(EnumSet.of(RUNNING, PAUSED), ABORTED_BY_ADMIN)),
      Map.entry(PAUSED, union(EnumSet.of(RUNNING), STOPPING)),
      Map.entry(HALTING, EnumSet.of(FAILED, ABORTING, ROLLING_BACK)),
      Map.entry(ABORTING, EnumSet.of(ABORTED)),
      // FAILED: the budget was spent but nothing it changed was left to take back.
      Map.entry(ROLLING_BACK, EnumSet.of(ROLLED_BACK, ROLLBACK_FAILED, FAILED)),
      Map.entry(COMPLETED, EnumSet.noneOf(DeploymentState.class)),
      Map.entry(FAILED, EnumSet.noneOf(DeploymentState.class)),
      Map.entry(ROLLED_BACK, EnumSet.noneOf(DeploymentState.class)),
      Map.entry(ROLLBACK_FAILED, EnumSet.noneOf(DeploymentState.class)),
      Map.entry(ABORTED, EnumSet.noneOf(DeploymentState.class)));

  private static Set<DeploymentState> union(Set<DeploymentState> a, Set<DeploymentState> b) {
    EnumSet<DeploymentState> all = EnumSet.copyOf(a);
    all.addAll(b);
    return all;
  }

  /** As stored and shown: {@code awaiting_approval}. */
  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The state a stored label names. */
  static DeploymentState of(String label) {
    try {
      return valueOf(label.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("deployment state: " + label + " (expected one of: "
          + java.util.Arrays.stream(values()).map(DeploymentState::label).toList() + ")", e);
    }
  }

  /** A state the deployment never leaves. */
  boolean ended() {
    return NEXT.get(this).isEmpty();
  }

  /** Whether the deployment is on its way to a stop (nothing new starts; the budget is no longer counted). */
  boolean stopping() {
    return STOPPING.contains(this);
  }

  Set<DeploymentState> next() {
    return NEXT.get(this);
  }

  /** Throws unless the table allows moving from this state to {@code next} (or staying). */
  void checkTransition(DeploymentState next) {
    if (next != this && !NEXT.get(this).contains(next)) {
      throw new IllegalStateException("deployment state " + label() + " -> " + next.label() + " is not a legal move");
    }
  }
}
