package io.rackroll.wire;

import io.grpc.Status;

/** gRPC statuses as a log line reads them. */
public final class Statuses {
  private Statuses() {}

  /**
   * "UNAVAILABLE (Connection refused)": the code and the one most useful detail, never the cause's
   * stack trace that {@link Status#toString()} carries.
   */
  public static String describe(Status s) {
    String detail = detail(s);
    return s.getCode() + (detail.isEmpty() ? "" : " (" + detail + ")");
  }

  /** The status's description, else its cause's message; empty when it has neither. */
  public static String detail(Status s) {
    String detail = s.getDescription() != null ? s.getDescription()
        : s.getCause() != null ? s.getCause().getMessage() : null;
    return detail == null ? "" : detail;
  }
}
