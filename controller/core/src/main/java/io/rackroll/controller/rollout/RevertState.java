package io.rackroll.controller.rollout;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where one host stands in being returned to its release before, after its deployment halted or
 * it failed its health gate; tracked beside its phase, with every move in one table. Stored as
 * {@link #label()}: "" for {@link #NONE}, else the upper-case name.
 */
enum RevertState {
  /** Not being reverted. */
  NONE,
  /** To revert once its agent is connected again. */
  PENDING,
  /** The revert command went out; waiting for the host's report. */
  SENT,
  /** The host is back on its release before (or its flags are). */
  REVERTED,
  /** The host could not be reverted, or did not answer in time. */
  FAILED;

  /**
   * A revert ends REVERTED or FAILED; only a host found later on the release its deployment took
   * back (it woke up, or resumed a job by itself) is sent back again, and a host whose revert was
   * counted failed (it did not answer in time) that reports it arrived after all is REVERTED.
   */
  private static final Map<RevertState, Set<RevertState>> NEXT = Map.of(
      NONE, EnumSet.of(PENDING, SENT),
      PENDING, EnumSet.of(SENT, FAILED),
      SENT, EnumSet.of(REVERTED, FAILED),
      REVERTED, EnumSet.of(SENT),
      FAILED, EnumSet.of(SENT, REVERTED));

  String label() {
    return this == NONE ? "" : name();
  }

  static RevertState of(String label) {
    try {
      return label.isEmpty() ? NONE : valueOf(label.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("revert state: " + label + " (expected: \"\", PENDING, SENT, REVERTED or FAILED)", e);
    }
  }

  /** A revert in progress: the host still has to be brought back. */
  boolean open() {
    return this == PENDING || this == SENT;
  }

  Set<RevertState> next() {
    return NEXT.get(this);
  }

  /** Throws unless the table allows moving from this state to {@code next} (or staying). */
  void checkTransition(RevertState next) {
    if (next != this && !NEXT.get(this).contains(next)) {
      throw new IllegalStateException("revert state " + this + " -> " + next + " is not a legal move");
    }
  }
}
