package io.rackroll.controller.select;

import io.rackroll.controller.store.StoredAgent;
import io.rackroll.proto.v1.Facts;
import java.util.HashMap;
import java.util.Map;

/**
 * What a selector sees of an agent: its labels, plus a few facts under {@code facts.}
 * ({@code facts.hostname}, {@code facts.arch}, {@code facts.os}, {@code facts.cores},
 * {@code facts.vendor}, {@code facts.model}).
 */
public final class AgentAttributes {
  private AgentAttributes() {}

  public static Map<String, String> of(StoredAgent a) {
    Map<String, String> m = new HashMap<>(a.labels());
    Facts f = a.facts();
    m.put("facts.hostname", f.getHostname());
    m.put("facts.arch", f.getArch());
    m.put("facts.os", f.getOs().getFamily().toLowerCase(java.util.Locale.ROOT));
    m.put("facts.cores", Integer.toString(f.getCpu().getLogicalCores()));
    m.put("facts.vendor", f.getSystem().getVendor());
    m.put("facts.model", f.getSystem().getModel());
    return m;
  }
}
