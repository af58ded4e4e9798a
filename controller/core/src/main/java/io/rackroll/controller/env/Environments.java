package io.rackroll.controller.env;

import io.rackroll.controller.select.AgentAttributes;
import io.rackroll.controller.store.StoredAgent;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One applied environments file: the environments by name, in the file's order, and the lifecycle
 * a release is promoted along.
 *
 * @param version 1 for the first file applied, then one more each time; 0 when none was applied
 */
public record Environments(int version, List<String> lifecycle, Map<String, Environment> byName, String yaml,
    String appliedBy, Instant appliedAt) {
  public static final Environments NONE = new Environments(0, List.of(), Map.of(), "", "", Instant.EPOCH);

  public Environments {
    lifecycle = List.copyOf(lifecycle);
    byName = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byName));
  }

  public Optional<Environment> get(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The environment {@code agent} belongs to: the one whose selector matches (overlaps are refused at apply). */
  public Optional<Environment> of(StoredAgent agent) {
    Map<String, String> a = AgentAttributes.of(agent);
    return byName.values().stream().filter(e -> e.selector().matches(a)).findFirst();
  }

  /** Every environment that matches {@code agent}: more than one is an overlap. */
  public List<String> matching(StoredAgent agent) {
    Map<String, String> a = AgentAttributes.of(agent);
    List<String> names = new ArrayList<>();
    byName.values().forEach(e -> {
      if (e.selector().matches(a)) {
        names.add(e.name());
      }
    });
    return names;
  }

  /** The environment before {@code name} in the lifecycle; empty for the first. */
  public Optional<String> before(String name) {
    int i = lifecycle.indexOf(name);
    return i > 0 ? Optional.of(lifecycle.get(i - 1)) : Optional.empty();
  }
}
