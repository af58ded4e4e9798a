package io.rackroll.controller.auth;

import static io.rackroll.controller.auth.AdminRole.DEPLOYER;
import static io.rackroll.controller.auth.AdminRole.OPERATOR;
import static io.rackroll.controller.auth.AdminRole.OWNER;
import static io.rackroll.controller.auth.AdminRole.VIEWER;
import static java.util.Map.entry;

import java.util.Map;
import java.util.Optional;

/**
 * The role each admin call needs, in one table. Deny by default: a call missing here is refused
 * to everyone, so a new call is unusable until someone decides who may make it.
 */
public final class Permissions {
  private Permissions() {}

  private static final Map<String, AdminRole> REQUIRED = Map.ofEntries(
      // Reading the fleet, its releases, deployments, environments (no secret values) and the audit.
      entry("ListAgents", VIEWER), entry("GetAgent", VIEWER), entry("PingAgent", VIEWER),
      entry("ListReleases", VIEWER), entry("GetRelease", VIEWER), entry("ReleaseHistory", VIEWER),
      entry("Plan", VIEWER), entry("GetDeployment", VIEWER), entry("WatchDeployment", VIEWER), entry("ListDeployments", VIEWER),
      entry("ListAudit", VIEWER), entry("AgentHistory", VIEWER), entry("GetStatus", VIEWER),
      entry("GetEnvironments", VIEWER), entry("EnvironmentDiff", VIEWER), entry("GetFlags", VIEWER),
      entry("ListAdmins", VIEWER), entry("RenewAdmin", VIEWER), entry("ListKeyStatements", VIEWER),
      // The web console: every admin signs in as itself, with its own role, and ends its own
      // sessions (all admins' sessions: an owner's, checked in the call).
      entry("CreateWebLogin", VIEWER), entry("EndWebSessions", VIEWER),
      // Changing what runs.
      entry("PushRelease", DEPLOYER), entry("Deploy", DEPLOYER), entry("Promote", DEPLOYER),
      entry("Reconfigure", DEPLOYER), entry("SetFlags", DEPLOYER), entry("ControlDeployment", DEPLOYER),
      // Running the fleet.
      entry("Rollback", OPERATOR), entry("CreateToken", OPERATOR), entry("LabelAgent", OPERATOR),
      entry("RevokeAgent", OPERATOR), entry("RemoveAgent", OPERATOR), entry("ApplyEnvironments", OPERATOR),
      // Handing hosts a key statement: only hosts decide whether a key they trust signed it.
      entry("PushKeyStatement", OPERATOR),
      // People and secrets.
      entry("SetSecret", OWNER), entry("AddAdmin", OWNER), entry("JoinNode", OWNER), entry("RevokeAdmin", OWNER));

  /** The role the admin call {@code method} (its bare name, e.g. "Deploy") needs; empty: nobody may. */
  public static Optional<AdminRole> required(String method) {
    return Optional.ofNullable(REQUIRED.get(method));
  }

  /** Going past a change window or a required promotion: an operator's decision. */
  public static final AdminRole OVERRIDE = OPERATOR;
}
