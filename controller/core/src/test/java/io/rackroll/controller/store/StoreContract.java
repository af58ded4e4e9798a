package io.rackroll.controller.store;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What every {@link Store} backend must do, part by part: each part's contract extends this, and
 * each backend's test runs every contract on its store. Subclasses supply the store; ids are
 * random so a backend may share one database between tests.
 */
abstract class StoreContract {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  abstract Store store();

  static String id(String prefix) {
    return prefix + UUID.randomUUID().toString().substring(0, 8);
  }

  static NewToken token(String id, int uses, Instant expires) {
    return new NewToken(id, "hash-" + id, Map.of("rack", "r1", "role", "web"), expires, uses, T0, "admin");
  }

  static Deployment.Host host(String agentId, String rack, int batch, String before) {
    return new Deployment.Host(agentId, "host-" + agentId, rack, batch, HostPhase.PENDING, "", "", "2", before, before.isEmpty() ? "" : "cfg-" + before, "", T0);
  }

  static Deployment deployment(String id, String app, List<Deployment.Host> hosts) {
    return new Deployment(id, "deploy", app, "2", "rack=r1", "admin", T0,
        Map.of("batch", "1", "maxPerRack", "1"), "running", 0, 2, 1, "", T0, "", "", Map.of(), hosts);
  }
}
