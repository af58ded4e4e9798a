package io.rackroll.controller.auth;

import java.util.Locale;

/**
 * What a person may do, each role everything the one before it may: a viewer reads (secrets
 * excepted), a deployer changes releases and flags, an operator also runs the fleet (rollbacks,
 * tokens, agents, the environments file, overrides of change windows and promotion), an owner
 * also manages people and secrets.
 */
public enum AdminRole {
  VIEWER, DEPLOYER, OPERATOR, OWNER;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean atLeast(AdminRole other) {
    return compareTo(other) >= 0;
  }

  public static AdminRole parse(String text) {
    for (AdminRole r : values()) {
      if (r.label().equals(text)) {
        return r;
      }
    }
    throw new IllegalArgumentException("role \"" + text + "\" (expected: viewer, deployer, operator or owner)");
  }
}
