package io.rackroll.controller.enroll;

import io.rackroll.controller.store.NewToken;
import io.rackroll.controller.store.Redemption;
import io.rackroll.controller.store.EnrollmentStore;
import io.rackroll.trust.BootstrapToken;
import io.rackroll.wire.Ids;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;

/**
 * Issues and redeems bootstrap tokens. The store keeps only a hash of each secret, so a copy of
 * the database does not let anyone enroll a host.
 */
public final class Tokens {
  public static final Duration DEFAULT_TTL = Duration.ofHours(1);
  public static final Duration MAX_TTL = Duration.ofDays(30);

  private final EnrollmentStore store;
  private final Clock clock;
  private final String caFingerprint;
  private final SecureRandom random = new SecureRandom();

  public Tokens(EnrollmentStore store, Clock clock, String caFingerprint) {
    this.store = store;
    this.clock = clock;
    this.caFingerprint = caFingerprint;
  }

  /** An issued token and when it stops working. */
  public record Issued(BootstrapToken token, Instant expiresAt, int uses) {}

  /** The most release keys one token hands a host. */
  static final int MAX_RELEASE_KEYS = 16;

  public Issued create(Map<String, String> labels, Duration ttl, int uses, String createdBy) {
    return create(labels, ttl, uses, createdBy, "");
  }

  /**
   * A token with {@code labels}; when {@code replaces} names an agent, the host that enrolls with it
   * becomes that agent (a reinstalled or replaced machine), and must be its only use.
   */
  public Issued create(Map<String, String> labels, Duration ttl, int uses, String createdBy, String replaces) {
    return create(labels, ttl, uses, createdBy, replaces, java.util.List.of());
  }

  /** As above; a host enrolling with it trusts {@code releaseKeys} (one line each, checked here) from then on. */
  public Issued create(Map<String, String> labels, Duration ttl, int uses, String createdBy, String replaces,
      java.util.List<String> releaseKeys) {
    if (releaseKeys.size() > MAX_RELEASE_KEYS) {
      throw new IllegalArgumentException("release keys: " + releaseKeys.size() + " (expected: at most "
          + MAX_RELEASE_KEYS + "; rotate with key statements instead)");
    }
    java.util.List<String> keys = new java.util.ArrayList<>();
    for (String line : releaseKeys) {
      io.rackroll.trust.ReleaseKey key = io.rackroll.trust.ReleaseKey.parse(line);
      keys.add(key.format(""));
    }
    if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: more than 0 and at most " + MAX_TTL.toDays() + " days)");
    }
    if (uses < 1) {
      throw new IllegalArgumentException("uses: " + uses + " (expected: >= 1)");
    }
    Labels.check(labels);
    String id = Ids.random("", 8);
    byte[] secretBytes = new byte[24];
    random.nextBytes(secretBytes);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(secretBytes);
    BootstrapToken token = new BootstrapToken(id, secret, caFingerprint);
    Instant now = clock.instant();
    Instant expires = now.plus(ttl);
    store.createToken(new NewToken(token.id(), hash(secret), labels, expires, uses, now, createdBy, replaces, keys));
    return new Issued(token, expires, uses);
  }

  /**
   * Spends one use of {@code token} and returns what it grants: labels, and the agent it replaces.
   *
   * @throws TokenRefusedException naming the token (never its secret) and what to do
   */
  public Redemption redeem(BootstrapToken token) {
    if (!token.caFingerprint().equals(caFingerprint)) {
      throw new TokenRefusedException(token + " was issued by another controller's CA; create one here with 'rackroll token create'");
    }
    Redemption r = store.redeemToken(token.id(), hash(token.secret()), clock.instant());
    return switch (r.outcome()) {
      case ACCEPTED -> r;
      case UNKNOWN -> throw new TokenRefusedException(token + " is not known to this controller; create one with 'rackroll token create'");
      case EXPIRED -> throw new TokenRefusedException(token + " expired at " + r.expiresAt() + "; create a new one with 'rackroll token create'");
      case USED_UP -> throw new TokenRefusedException(token + " has already been used; create a new one with 'rackroll token create'");
    };
  }

  static String hash(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A token that cannot be used; the message is safe to show the agent and the operator. */
  public static final class TokenRefusedException extends RuntimeException {
    TokenRefusedException(String message) {
      super(message);
    }
  }
}
