package io.rackroll.trust;

import java.security.PrivateKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A release manager's detached signature over one release: its name, version and the SHA-256 of
 * its artifact, made with an Ed25519 release key ({@code rackroll release sign}). Hosts verify it
 * against the keys they trust before they unpack a byte.
 *
 * <pre>
 * rackroll release signature v1
 * release: web@1.4.2
 * digest: sha256:9f86d0...
 * key: 3f2a9c1b0d4e5f60
 * signature: BASE64
 * </pre>
 */
public record ReleaseSignature(String name, String version, String digest, String keyId, byte[] signature) {
  static final String HEADER = "rackroll release signature v1";
  private static final List<String> FIELDS = List.of("release", "digest", "key");
  private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern KEY_ID = Pattern.compile("[0-9a-f]{16}");

  /** Signs {@code name@version} whose artifact has SHA-256 {@code digest} (hex) with {@code key}. */
  public static ReleaseSignature sign(PrivateKey key, String name, String version, String digest) {
    ReleaseKey signer = ReleaseKey.publicOf(key);
    Map<String, String> fields = fields(name + "@" + version, digest, signer.id());
    return new ReleaseSignature(name, version, digest, signer.id(), ReleaseKey.sign(key, SignedText.signed(HEADER, fields)));
  }

  private static Map<String, String> fields(String release, String digest, String keyId) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("release", release);
    f.put("digest", "sha256:" + digest);
    f.put("key", keyId);
    return f;
  }

  /** Reads the text form; throws IllegalArgumentException saying what is wrong. */
  public static ReleaseSignature parse(String text) {
    String what = "the release signature";
    Map<String, String> f = SignedText.parse(text, what, HEADER, FIELDS);
    String release = f.get("release");
    int at = release.lastIndexOf('@');
    if (at <= 0 || at == release.length() - 1) {
      throw new IllegalArgumentException(what + ": release \"" + release + "\" is not NAME@VERSION");
    }
    String digest = f.get("digest");
    if (!digest.startsWith("sha256:") || !HEX64.matcher(digest.substring(7)).matches()) {
      throw new IllegalArgumentException(what + ": digest is not sha256:HEX");
    }
    if (!KEY_ID.matcher(f.get("key")).matches()) {
      throw new IllegalArgumentException(what + ": key is not a release key id (16 hex digits)");
    }
    return new ReleaseSignature(release.substring(0, at), release.substring(at + 1), digest.substring(7), f.get("key"),
        SignedText.signature(f, what));
  }

  public String format() {
    return SignedText.format(HEADER, fields(name + "@" + version, digest, keyId), signature);
  }

  /**
   * Why a host must refuse {@code name@version} with artifact SHA-256 {@code digest} under this
   * signature, trusting {@code trusted}; empty when the signature is good.
   */
  public Optional<String> refusal(String name, String version, String digest, Map<String, ReleaseKey> trusted) {
    ReleaseKey key = trusted.get(keyId);
    if (key == null) {
      return Optional.of("signed by key " + keyId + ", which this host does not trust");
    }
    if (!this.name.equals(name) || !this.version.equals(version) || !this.digest.equals(digest)) {
      return Optional.of("the signature by key " + keyId + " is for " + this.name + "@" + this.version + " (sha256 "
          + this.digest.substring(0, 12) + "...), not this artifact");
    }
    if (!key.verifies(SignedText.signed(HEADER, fields(name + "@" + version, digest, keyId)), signature)) {
      return Optional.of("the signature by key " + keyId + " does not verify (altered or forged)");
    }
    return Optional.empty();
  }
}
