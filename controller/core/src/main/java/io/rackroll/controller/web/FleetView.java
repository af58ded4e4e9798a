package io.rackroll.controller.web;

import io.rackroll.controller.store.AgentStore;
import io.rackroll.controller.store.HostJob;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.UnhealthyApp;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The fleet as the console draws it: one small cell per host (its rack, connection state, the
 * version of each app and which are unhealthy), so that 5,000 hosts are a few hundred kilobytes
 * and a change to one host is one cell.
 */
final class FleetView {
  /** One host's cell. */
  record Cell(String id, String host, String rack, String state, Map<String, String> apps, List<String> unhealthy) {}

  private final AgentStore agents;

  FleetView(AgentStore agents) {
    this.agents = agents;
  }

  /** Every host's cell, by rack then id. */
  List<Cell> all() {
    Map<String, Map<String, String>> versions = agents.currentVersions();
    Map<String, List<String>> unhealthy = unhealthyByAgent();
    List<Cell> cells = new ArrayList<>();
    for (StoredAgent a : agents.all()) {
      cells.add(cell(a, versions.getOrDefault(a.id(), Map.of()), unhealthy.getOrDefault(a.id(), List.of())));
    }
    cells.sort(java.util.Comparator.comparing(Cell::rack).thenComparing(Cell::id));
    return cells;
  }

  /** The cells of {@code ids} (a removed host: none). */
  List<Cell> of(Collection<String> ids) {
    Map<String, List<String>> unhealthy = unhealthyByAgent();
    List<Cell> cells = new ArrayList<>();
    for (String id : ids) {
      agents.agent(id).ifPresent(a -> {
        Map<String, String> versions = new TreeMap<>();
        for (HostJob j : agents.agentApps(id)) {
          versions.put(j.app(), j.currentVersion());
        }
        cells.add(cell(a, versions, unhealthy.getOrDefault(id, List.of())));
      });
    }
    return cells;
  }

  private Map<String, List<String>> unhealthyByAgent() {
    Map<String, List<String>> out = new HashMap<>();
    for (UnhealthyApp u : agents.unhealthyApps()) {
      out.computeIfAbsent(u.agentId(), k -> new ArrayList<>()).add(u.app());
    }
    return out;
  }

  private static Cell cell(StoredAgent a, Map<String, String> versions, List<String> unhealthy) {
    return new Cell(a.id(), a.facts().getHostname(), a.labels().getOrDefault("rack", ""), a.state().label(),
        new TreeMap<>(versions), List.copyOf(unhealthy));
  }
}
