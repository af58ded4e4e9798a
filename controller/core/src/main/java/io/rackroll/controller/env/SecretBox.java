package io.rackroll.controller.env;

import io.rackroll.trust.SecureFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts environment secrets at rest: AES-256-GCM with a random 96-bit nonce per value, the
 * environment and name bound in as associated data (a sealed value moved to another name does not
 * open). The key is 32 random bytes in {@code <data>/secrets.key}, mode 0600, made on first use;
 * the store only ever holds sealed values. Losing the key loses the secrets, not the rest.
 */
public final class SecretBox {
  public static final String KEY_FILE = "secrets.key";
  private static final int NONCE = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key;
  private final SecretKeySpec digestKey;

  private SecretBox(byte[] key) {
    this.key = new SecretKeySpec(key, "AES");
    try {
      // A key of its own for digests, derived from the secrets key: a digest never helps guess a secret.
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      this.digestKey = new SecretKeySpec(mac.doFinal("rackroll configuration digest".getBytes(StandardCharsets.UTF_8)),
          "HmacSHA256");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available", e);
    }
  }

  /**
   * Names one configuration: a keyed hash of the environment and every variable, secrets
   * included, equal for equal configurations and revealing nothing about any value.
   */
  public String digest(String environment, Map<String, String> variables) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(digestKey);
      StringBuilder canonical = new StringBuilder();
      canonical.append(environment.length()).append(':').append(environment);
      new java.util.TreeMap<>(variables).forEach((k, v) -> canonical.append(k.length()).append(':').append(k)
          .append(v.length()).append(':').append(v));
      byte[] h = mac.doFinal(canonical.toString().getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(h, 0, 16);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is not available", e);
    }
  }

  /** The key in {@code dataDir}, made there (0600) if there is none yet. */
  public static SecretBox open(Path dataDir) throws IOException {
    Path file = dataDir.resolve(KEY_FILE);
    if (!Files.exists(file)) {
      byte[] key = new byte[32];
      RANDOM.nextBytes(key);
      SecureFiles.write(file, key, SecureFiles.OWNER_ONLY);
    }
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file);
    if (!mode.equals(SecureFiles.OWNER_ONLY)) {
      throw new IOException(file + " is readable by others (" + java.nio.file.attribute.PosixFilePermissions.toString(mode)
          + "); make it owner-only: chmod 600 " + file);
    }
    byte[] key = Files.readAllBytes(file);
    if (key.length != 32) {
      throw new IOException(file + " is not a secrets key (expected 32 bytes, found " + key.length + ")");
    }
    return new SecretBox(key);
  }

  public String seal(String environment, String name, String value) {
    byte[] nonce = new byte[NONCE];
    RANDOM.nextBytes(nonce);
    try {
      Cipher c = cipher(Cipher.ENCRYPT_MODE, nonce, environment, name);
      byte[] sealed = c.doFinal(value.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(ByteBuffer.allocate(NONCE + sealed.length).put(nonce).put(sealed)
          .array());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  /** The value, or an exception naming the secret (never the value) when it does not open. */
  public String open(String environment, String name, String sealed) {
    try {
      byte[] all = Base64.getDecoder().decode(sealed);
      byte[] nonce = java.util.Arrays.copyOf(all, NONCE);
      Cipher c = cipher(Cipher.DECRYPT_MODE, nonce, environment, name);
      return new String(c.doFinal(all, NONCE, all.length - NONCE), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalStateException("secret " + name + " of " + environment + " does not decrypt with "
          + KEY_FILE + " (a different key, or a damaged value); set it again with 'rackroll env secret set "
          + environment + " " + name + "'");
    }
  }

  private Cipher cipher(int mode, byte[] nonce, String environment, String name) throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(mode, key, new GCMParameterSpec(TAG_BITS, nonce));
    c.updateAAD((environment + "\0" + name).getBytes(StandardCharsets.UTF_8));
    return c;
  }
}
