package io.rackroll.wire;

import io.grpc.Status;

/** gRPC statuses as a log line reads them. */
public final class Statuses {
  private Statuses() {}

  /**
   * A trailer the controller adds when it answers UNAVAILABLE itself (a node that cannot reach the
   * node that leads, say), so a client tells its answer from a connection that failed.
   */
  public static final io.grpc.Metadata.Key<String> ANSWERED = io.grpc.Metadata.Key.of("rackroll-answered",
      io.grpc.Metadata.ASCII_STRING_MARSHALLER);

  /** Trailers that say the controller answered this itself (see {@link #ANSWERED}). */
  public static io.grpc.Metadata answered() {
    io.grpc.Metadata m = new io.grpc.Metadata();
    m.put(ANSWERED, "1");
    return m;
  }

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
