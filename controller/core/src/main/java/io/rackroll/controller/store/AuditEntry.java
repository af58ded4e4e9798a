package io.rackroll.controller.store;

import java.time.Instant;

/**
 * One line of the audit log: who ({@code actor}: an admin's certificate name, or "controller" for
 * what the controller decided by itself) did what to what.
 */
public record AuditEntry(long seq, Instant at, String actor, String action, String target, String detail) {
  public static AuditEntry of(Instant at, String actor, String action, String target, String detail) {
    return new AuditEntry(0, at, actor, action, target, detail);
  }
}
