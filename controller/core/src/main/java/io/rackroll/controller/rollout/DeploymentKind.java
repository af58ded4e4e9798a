package io.rackroll.controller.rollout;

import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.HostApp;
import io.rackroll.controller.store.HostPhase;
import io.rackroll.controller.strategy.Strategy;
import io.rackroll.release.FlagValues;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

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

  /**
   * Why a host need not be changed, for the plan's skipped hosts; empty when it must be.
   *
   * @param app the app on the host as last reported, or null when it never ran it
   * @param hostFlags the app's flags on the host now (flag changes only)
   * @param environmentDigest the digest of the configuration the host's environment gives it now
   */
  String unchanged(String appName, String version, Map<String, String> flags, HostApp app,
      Map<String, String> hostFlags, Supplier<String> environmentDigest) {
    String release = describe(appName, version, flags);
    return switch (this) {
      case FLAGS -> app == null || app.currentVersion().isEmpty() ? "does not run " + appName
          : FlagValues.holds(hostFlags, flags) ? "already has " + FlagValues.show(flags) : "";
      case RECONFIGURE -> app == null || !app.healthyOn(version)
          ? "does not run " + release + " healthily; deploy it there instead"
          : app.configDigest().equals(environmentDigest.get())
              ? "already runs " + appName + "@" + version + " with its environment's values" : "";
      case DEPLOY, ROLLBACK -> app != null && !version.isEmpty() && app.healthyOn(version)
          ? "already runs " + release + " and is healthy" : "";
    };
  }

  /**
   * Whether a deployment of this kind to {@code version} changed host {@code h}, as far as the
   * controller knows. A deploy or rollback did when the host runs that release now and had another
   * before; a reconfigure or flag change did when the host took it (its report said so, or it
   * failed its health gate or timed out after).
   */
  boolean changed(Deployment.Host h, String version, String currentVersion) {
    return switch (this) {
      case FLAGS, RECONFIGURE -> !h.beforeVersion().isEmpty() && (h.phase() == HostPhase.ACTIVE
          || h.phase() == HostPhase.UNHEALTHY || h.phase() == HostPhase.TIMED_OUT);
      case DEPLOY, ROLLBACK -> !h.beforeVersion().isEmpty() && !h.beforeVersion().equals(version)
          && currentVersion.equals(version);
    };
  }

  /** What a host's report of a completed revert means, now on {@code currentVersion}. */
  String reverted(String currentVersion) {
    return this == FLAGS ? "flags back" : "back on " + currentVersion;
  }
}
