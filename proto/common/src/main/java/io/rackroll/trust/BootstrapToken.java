package io.rackroll.trust;

import java.util.regex.Pattern;

/**
 * A one-time enrollment token as an operator copies it onto a host:
 * {@code rr1.<id>.<secret>.<ca-fingerprint>}.
 *
 * <p>The id names the token in listings and logs; the secret proves possession (the controller
 * keeps only its hash); the CA fingerprint lets a host that has nothing yet verify it is talking
 * to the right controller before it sends anything, so no CA file has to be copied by hand.
 */
public record BootstrapToken(String id, String secret, String caFingerprint) {
  private static final String PREFIX = "rr1";
  private static final Pattern ID = Pattern.compile("[a-z0-9]{8}");
  private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9_-]{32}");
  private static final Pattern FINGERPRINT = Pattern.compile("[A-Za-z0-9_-]{43}");

  public BootstrapToken {
    check("token id", id, ID, "8 of a-z, 0-9");
    check("token secret", secret, SECRET, "32 base64url characters");
    check("CA fingerprint", caFingerprint, FINGERPRINT, "43 base64url characters");
  }

  /** Parses a token; the message says which part is wrong without echoing the secret. */
  public static BootstrapToken parse(String text) {
    String[] parts = text == null ? new String[0] : text.trim().split("\\.", -1);
    if (parts.length != 4 || !PREFIX.equals(parts[0])) {
      throw new IllegalArgumentException(
          "token is not a Rackroll token (expected: rr1.<id>.<secret>.<ca-fingerprint>, as printed by 'rackroll token create')");
    }
    return new BootstrapToken(parts[1], parts[2], parts[3]);
  }

  public String text() {
    return PREFIX + "." + id + "." + secret + "." + caFingerprint;
  }

  @Override
  public String toString() {
    return "token " + id; // never the secret
  }

  private static void check(String what, String value, Pattern pattern, String expected) {
    if (value == null || !pattern.matcher(value).matches()) {
      throw new IllegalArgumentException(what + " is malformed (expected: " + expected
          + "; copy the whole token printed by 'rackroll token create')");
    }
  }
}
