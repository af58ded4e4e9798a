package io.rackroll.controller.rollout;

import io.rackroll.release.FlagValues;
import java.util.Locale;
import java.util.Map;

/**
 * What a deployment changes on its hosts, and what differs with it, in one place. A deploy
 * installs a release; a rollback switches to kept ones; a reconfigure installs the version a host
 * runs again with its environment's values now (beside the old, so a revert is a switch back); a
 * flags change sets runtime flags, and its revert puts each host's flags back. All but rollbacks
 * keep to change windows. Stored as {@link #label()}.
 */
enum DeploymentKind {
  DEPLOY, ROLLBACK, RECONFIGURE, FLAGS;

  /** As stored and shown: "deploy". */
  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  static DeploymentKind of(String label) {
    try {
      return valueOf(label.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("deployment kind: " + label + " (expected: deploy, rollback, reconfigure or flags)",
          e);
    }
  }

  /** What a deployment of this kind does, for the operator: "web@2", "web (previous release)", "web flags a=true". */
  String describe(String app, String version, Map<String, String> flags) {
    return switch (this) {
      case FLAGS -> app + " flags " + FlagValues.show(flags);
      case RECONFIGURE -> app + "@" + version + " (reconfigure)";
      case DEPLOY, ROLLBACK -> version.isEmpty() ? app + " (previous release)" : app + "@" + version;
    };
  }

  /** Whether it installs its release on hosts (so the release must have been pushed). */
  boolean installs() {
    return this == DEPLOY || this == RECONFIGURE;
  }

  /** Whether it changes runtime flags rather than releases. */
  boolean changesFlags() {
    return this == FLAGS;
  }

  /** Whether change windows and freezes apply: a rollback is always allowed. */
  boolean keepsToWindows() {
    return this != ROLLBACK;
  }

  /** The rollout options it starts from, before the environment's and the request's. */
  Map<String, String> strategyDefaults() {
    return this == ROLLBACK ? Strategy.ROLLBACK_DEFAULTS : Strategy.DEPLOY_DEFAULTS;
  }

  /** How a refusal outside a change window names the action: "to reconfigure now anyway". */
  String verb() {
    return switch (this) {
      case FLAGS -> "change the flags";
      case RECONFIGURE -> "reconfigure";
      case DEPLOY, ROLLBACK -> "deploy";
    };
  }

  /** Where a revert takes a host that ran {@code beforeVersion}: "back to web@1", or its flags or values before. */
  String backTo(String beforeVersion) {
    return switch (this) {
      case FLAGS -> "back to its flags before";
      case RECONFIGURE -> "back to " + beforeVersion + " with its earlier values";
      case DEPLOY, ROLLBACK -> "back to " + beforeVersion;
    };
  }

  /** What a host's report of a completed revert means, now on {@code currentVersion}. */
  String reverted(String currentVersion) {
    return this == FLAGS ? "flags back" : "back on " + currentVersion;
  }
}
