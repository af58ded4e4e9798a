package io.rackroll.controller.store;

import java.util.Locale;

/** Whether the controller can reach an agent now. */
public enum ConnectionState {
  /** Enrolled, has never opened its stream. */
  ENROLLED,
  /** Stream open and heartbeats arriving. */
  CONNECTED,
  /** Stream open but no heartbeat within the stale threshold: the host may be hung or cut off. */
  STALE,
  /** Stream closed. */
  DISCONNECTED,
  /** Certificates refused by an admin; only enrolling again with a new token brings the host back. */
  REVOKED;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  static ConnectionState of(String label) {
    return valueOf(label.toUpperCase(Locale.ROOT));
  }
}
