package io.rackroll.controller.store;

import java.time.Instant;

/** One recorded change of a host in a deployment: the history of hosts and the proof of what ran at once. */
public record Transition(long seq, String deploymentId, String app, String agentId, String phase, String version,
    String detail, Instant at) {}
