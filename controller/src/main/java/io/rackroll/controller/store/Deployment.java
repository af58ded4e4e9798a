package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;

/** A deployment and each host's part in it. */
public record Deployment(String id, String kind, String app, String version, String selector, String createdBy,
    Instant createdAt, List<Host> hosts) {
  public Deployment {
    hosts = List.copyOf(hosts);
  }

  /** One host's state in a deployment. */
  public record Host(String agentId, String phase, String failureKind, String failure, String version, Instant updatedAt) {
    public boolean terminal() {
      return switch (phase) {
        case "ACTIVE", "ROLLED_BACK", "FAILED", "UNREACHABLE" -> true;
        default -> false;
      };
    }
  }

  /** running until every host ends; then completed only if every host is ACTIVE. */
  public String state() {
    if (hosts.stream().anyMatch(h -> !h.terminal())) {
      return "running";
    }
    return hosts.stream().allMatch(h -> h.phase().equals("ACTIVE")) ? "completed" : "failed";
  }
}
