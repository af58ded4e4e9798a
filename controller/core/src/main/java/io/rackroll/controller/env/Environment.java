package io.rackroll.controller.env;

import io.rackroll.controller.select.Selector;
import java.util.Map;

/**
 * A named set of agents, chosen by {@code selector}, with the rollout options its deployments
 * start from and the times it may change.
 *
 * @param strategy deployment options by name (as in a {@code deploy -f} file); flags win over them
 * @param variables plain configuration values for releases' templates and hooks (secrets are kept apart)
 */
public record Environment(String name, Selector selector, Map<String, String> strategy, Map<String, String> variables,
    Schedule schedule, boolean requirePromotion) {
  public Environment {
    strategy = Map.copyOf(strategy);
    variables = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(variables));
  }
}
