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
    String detail = s.getDescription() != null ? s.getDescription()
        : s.getCause() != null ? s.getCause().getMessage() : "";
    return s.getCode() + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")");
  }
}
