package io.rackroll.trust;

import java.security.PrivateKey;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A change to which release keys hosts trust, signed by a key they trust already: "trust" a new
 * key, or "withdraw" one. How a fleet moves to a new key without anyone touching each host.
 *
 * <pre>
 * rackroll release key statement v1
 * action: trust
 * subject: ed25519 BASE64
 * issued: 2026-12-02T10:00:00Z
 * key: 3f2a9c1b0d4e5f60
 * signature: BASE64
 * </pre>
 */
public record KeyStatement(Action action, ReleaseKey subject, Instant issued, String signerId, byte[] signature) {
  static final String HEADER = "rackroll release key statement v1";
  private static final List<String> FIELDS = List.of("action", "subject", "issued", "key");
  private static final Pattern KEY_ID = Pattern.compile("[0-9a-f]{16}");

  public enum Action {
    TRUST, WITHDRAW;

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** {@code action} of {@code subject}, signed with {@code signer}, a key hosts trust now. */
  public static KeyStatement sign(PrivateKey signer, Action action, ReleaseKey subject, Instant issued) {
    ReleaseKey by = ReleaseKey.publicOf(signer);
    Instant at = issued.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    byte[] sig = ReleaseKey.sign(signer, SignedText.signed(HEADER, fields(action, subject, at, by.id())));
    return new KeyStatement(action, subject, at, by.id(), sig);
  }

  private static Map<String, String> fields(Action action, ReleaseKey subject, Instant issued, String signerId) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("action", action.label());
    f.put("subject", subject.format(""));
    f.put("issued", issued.toString());
    f.put("key", signerId);
    return f;
  }

  /** Reads the text form; throws IllegalArgumentException saying what is wrong. */
  public static KeyStatement parse(String text) {
    String what = "the key statement";
    Map<String, String> f = SignedText.parse(text, what, HEADER, FIELDS);
    Action action = switch (f.get("action")) {
      case "trust" -> Action.TRUST;
      case "withdraw" -> Action.WITHDRAW;
      default -> throw new IllegalArgumentException(what + ": action \"" + f.get("action") + "\" (expected: trust or"
          + " withdraw)");
    };
    ReleaseKey subject = ReleaseKey.parse(f.get("subject"));
    Instant issued;
    try {
      issued = Instant.parse(f.get("issued"));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(what + ": issued is not a UTC time like 2026-12-02T10:00:00Z");
    }
    if (!KEY_ID.matcher(f.get("key")).matches()) {
      throw new IllegalArgumentException(what + ": key is not a release key id (16 hex digits)");
    }
    return new KeyStatement(action, subject, issued, f.get("key"), SignedText.signature(f, what));
  }

  public String format() {
    return SignedText.format(HEADER, fields(action, subject, issued, signerId), signature);
  }

  /** Whether {@code signer} (whose id this statement names) made this statement. */
  public boolean signedBy(ReleaseKey signer) {
    return signer.id().equals(signerId)
        && signer.verifies(SignedText.signed(HEADER, fields(action, subject, issued, signerId)), signature);
  }

  /** One line for logs and the audit: "trust 0a1b... (signed by 3f2a...)". */
  public String describe() {
    return action.label() + " key " + subject.id() + " (signed by " + signerId + ", " + issued + ")";
  }
}
