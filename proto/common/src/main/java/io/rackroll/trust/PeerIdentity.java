package io.rackroll.trust;

import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Who is on the other end of a connection, as the Rackroll CA vouched for it.
 *
 * <p>Every certificate the CA issues names its holder in the subject:
 * {@code CN=<name>, OU=<role>, O=Rackroll}. The controller binds each call and stream to
 * this identity, never to anything the peer says about itself in a message.
 */
public record PeerIdentity(Role role, String name) {
  public enum Role {
    AGENT, ADMIN, CONTROLLER;

    String unit() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static final String ORGANIZATION = "Rackroll";
  /**
   * How the controller's refusal of a revoked certificate begins (status PERMISSION_DENIED): an
   * agent that reads it stops instead of retrying, since only a new enrollment helps.
   */
  public static final String REVOKED = "certificate revoked";

  private static final Pattern NAME = io.rackroll.wire.Names.AGENT_ID.pattern();

  public PeerIdentity {
    if (role == null) {
      throw new IllegalArgumentException("role: null (expected: agent, admin or controller)");
    }
    checkName(name);
  }

  public static PeerIdentity agent(String id) {
    return new PeerIdentity(Role.AGENT, id);
  }

  public static PeerIdentity admin(String name) {
    return new PeerIdentity(Role.ADMIN, name);
  }

  /** Throws when {@code name} cannot be an agent id or admin name. */
  public static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("name: " + name
          + " (expected: 1-63 of a-z, 0-9, '.', '_', '-', starting with a letter or digit)");
    }
  }

  /** The X.500 subject for a certificate carrying this identity. */
  public String subject() {
    return "CN=" + name + ",OU=" + role.unit() + ",O=" + ORGANIZATION;
  }

  /** The identity a certificate issued by the Rackroll CA carries, if it carries one. */
  public static Optional<PeerIdentity> of(X509Certificate certificate) {
    String cn = null;
    String ou = null;
    try {
      for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
        switch (rdn.getType().toUpperCase(Locale.ROOT)) {
          case "CN" -> cn = rdn.getValue().toString();
          case "OU" -> ou = rdn.getValue().toString();
          default -> { }
        }
      }
    } catch (InvalidNameException e) {
      return Optional.empty();
    }
    if (cn == null || ou == null || !NAME.matcher(cn).matches()) {
      return Optional.empty();
    }
    for (Role role : Role.values()) {
      if (role.unit().equals(ou)) {
        return Optional.of(new PeerIdentity(role, cn));
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return role.unit() + " " + name;
  }
}
