package io.rackroll.agent.lifecycle;

import io.rackroll.proto.v1.LifecyclePhase;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Where one release's rollout on this host stands. Persisted at every transition; every legal
 * transition is in {@link #NEXT}, reviewable in one place.
 */
enum Phase {
  DOWNLOADING(LifecyclePhase.DOWNLOADING),
  VERIFYING(LifecyclePhase.VERIFYING),
  CHECKING_HOST(LifecyclePhase.CHECKING_HOST),
  INSTALLING(LifecyclePhase.INSTALLING),
  ACTIVATING(LifecyclePhase.ACTIVATING),
  CHECKING_HEALTH(LifecyclePhase.CHECKING_HEALTH),
  ACTIVE(LifecyclePhase.ACTIVE),
  ROLLING_BACK(LifecyclePhase.ROLLING_BACK),
  ROLLED_BACK(LifecyclePhase.ROLLED_BACK),
  FAILED(LifecyclePhase.FAILED);

  private final LifecyclePhase wire;

  Phase(LifecyclePhase wire) {
    this.wire = wire;
  }

  /** As reported to the controller; persisted by {@link #name()}, which is the same word. */
  public LifecyclePhase wire() {
    return wire;
  }

  static final Map<Phase, Set<Phase>> NEXT = Map.of(
      DOWNLOADING, EnumSet.of(VERIFYING, FAILED),
      VERIFYING, EnumSet.of(CHECKING_HOST, DOWNLOADING, FAILED),
      CHECKING_HOST, EnumSet.of(INSTALLING, FAILED),
      INSTALLING, EnumSet.of(ACTIVATING, FAILED),
      ACTIVATING, EnumSet.of(CHECKING_HEALTH, ROLLING_BACK, FAILED),
      CHECKING_HEALTH, EnumSet.of(ACTIVE, ROLLING_BACK),
      ROLLING_BACK, EnumSet.of(ROLLED_BACK, FAILED),
      ACTIVE, EnumSet.noneOf(Phase.class),
      ROLLED_BACK, EnumSet.noneOf(Phase.class),
      FAILED, EnumSet.noneOf(Phase.class));

  public boolean terminal() {
    return NEXT.get(this).isEmpty();
  }

  /** Throws when going from this phase to {@code next} is not in the table: a bug, never an input. */
  void checkTransition(Phase next) {
    if (!NEXT.get(this).contains(next)) {
      throw new IllegalStateException("illegal lifecycle transition " + this + " -> " + next);
    }
  }
}
