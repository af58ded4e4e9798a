package io.rackroll.controller.store;

import java.time.Instant;
import java.util.Map;

/**
 * A host's flags of one app as its agent last reported them.
 *
 * @param flags name to the value's JSON text
 */
public record ReportedFlags(Map<String, String> flags, Instant at) {
  public ReportedFlags {
    flags = Map.copyOf(flags);
  }
}
