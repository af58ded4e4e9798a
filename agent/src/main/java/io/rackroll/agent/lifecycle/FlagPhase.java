package io.rackroll.agent.lifecycle;

import io.rackroll.proto.v1.LifecyclePhase;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Where one flag change on this host stands, with every move in one table, as {@link Phase} has
 * for installs. Persisted and reported by name ("APPLYING").
 */
enum FlagPhase {
  /** Written to flags.json or about to be; the flagsChanged hook and health checks run. */
  APPLYING(LifecyclePhase.APPLYING),
  /** The flags took and the release is healthy with them. */
  ACTIVE(LifecyclePhase.ACTIVE),
  /** Refused, or the flags could not be put back after a failure. */
  FAILED(LifecyclePhase.FAILED),
  /** The hook or health failed; the flags were put back as they were. */
  ROLLED_BACK(LifecyclePhase.ROLLED_BACK);

  private final LifecyclePhase wire;

  FlagPhase(LifecyclePhase wire) {
    this.wire = wire;
  }

  /** As reported to the controller; persisted by {@link #name()}, which is the same word. */
  LifecyclePhase wire() {
    return wire;
  }

  /** APPLYING may also stay APPLYING: a failure is recorded before the flags are put back. */
  private static final Map<FlagPhase, Set<FlagPhase>> NEXT = Map.of(
      APPLYING, EnumSet.of(ACTIVE, FAILED, ROLLED_BACK),
      ACTIVE, EnumSet.noneOf(FlagPhase.class),
      FAILED, EnumSet.noneOf(FlagPhase.class),
      ROLLED_BACK, EnumSet.noneOf(FlagPhase.class));

  boolean ended() {
    return this != APPLYING;
  }

  Set<FlagPhase> next() {
    return NEXT.get(this);
  }

  void checkTransition(FlagPhase next) {
    if (next != this && !NEXT.get(this).contains(next)) {
      throw new IllegalStateException("flag change " + this + " -> " + next + " is not a legal move");
    }
  }
}
