package io.rackroll.controller.rollout;

import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.Store;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * What a deployment's state machine acts on, shared by all of them: the store every change goes
 * to first, the hosts it sends commands to, the change windows it keeps to, and the clock. Built
 * once by the event loop; tests build one over a store, a clock and hosts of their own.
 */
final class RolloutContext {
  final Store store;
  final HostCommands commands;
  final ChangeWindows windows;
  final Clock clock;
  /** After a restart, hosts not yet reconnected are waited for this long whatever --offline says. */
  private final Duration reconnectGrace;
  /** When this controller began running deployments: its own downtime never counts against a host. */
  private Instant startedAt = Instant.EPOCH;
  /** Asks for {@code deployment} to be advanced again after a delay (the event loop's timer); none in tests. */
  private java.util.function.BiConsumer<String, Duration> wakeUp = (deployment, delay) -> { };

  RolloutContext(Store store, HostCommands commands, ChangeWindows windows, Clock clock, Duration reconnectGrace) {
    this.store = store;
    this.commands = commands;
    this.windows = windows;
    this.clock = clock;
    this.reconnectGrace = reconnectGrace;
  }

  /** Marks now as the start: hosts are given the reconnect grace, and time without progress starts over. */
  void started() {
    startedAt = clock.instant();
  }

  /** Whether hosts that have not reconnected since the start are still waited for. */
  boolean inReconnectGrace() {
    return clock.instant().isBefore(startedAt.plus(reconnectGrace));
  }

  /** When a host last changed, as far as its timeout goes: never before this controller started. */
  Instant sinceStart(Instant updatedAt) {
    return updatedAt.isBefore(startedAt) ? startedAt : updatedAt;
  }

  /** The loop's timer, for {@link #wakeUpIn}. */
  void wakeUpWith(java.util.function.BiConsumer<String, Duration> timer) {
    wakeUp = timer;
  }

  /**
   * Advances {@code deployment} again in {@code delay}: a health gate ends on time, not at the next
   * tick. The tick still comes; advancing twice changes nothing.
   */
  void wakeUpIn(String deployment, Duration delay) {
    wakeUp.accept(deployment, delay);
  }

  void audit(String actor, String action, String target, String detail) {
    store.audit().record(AuditEntry.of(clock.instant(), actor, action, target, detail));
  }
}
