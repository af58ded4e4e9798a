package io.rackroll.controller.store;

import java.time.Instant;

/**
 * An app whose periodic health reports on a host say unhealthy: since when (the first unhealthy
 * report after a healthy one) and what its last report said.
 */
public record UnhealthyApp(String agentId, String app, String version, Instant since, String health) {}
