package io.rackroll.trust;

import java.security.GeneralSecurityException;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

/**
 * A release manager's public Ed25519 key, as hosts trust it. Its text form is one line, like an
 * SSH key: {@code ed25519 BASE64 [comment]}, BASE64 being the key's X.509 (SubjectPublicKeyInfo)
 * encoding. Its id is the first 8 bytes of the SHA-256 of that encoding, in hex: what signatures,
 * statements and refusals name it by.
 */
public record ReleaseKey(String id, PublicKey key) {
  public static final String ALGORITHM = "Ed25519";
  private static final String PREFIX = "ed25519";
  /** Ed25519's X.509 encoding is 44 bytes; anything much longer is not a key of ours. */
  private static final int MAX_TEXT = 512;

  /** A new key pair, made with the JDK's Ed25519. */
  public static KeyPair generate() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot make Ed25519 keys", e);
    }
  }

  public static ReleaseKey of(PublicKey key) {
    if (!key.getAlgorithm().equals(ALGORITHM) && !key.getAlgorithm().equals("EdDSA")) {
      throw new IllegalArgumentException("not an Ed25519 key (" + key.getAlgorithm() + ")");
    }
    return new ReleaseKey(idOf(key.getEncoded()), key);
  }

  /** The id of the key whose X.509 encoding is {@code encoded}. */
  private static String idOf(byte[] encoded) {
    try {
      byte[] sha = MessageDigest.getInstance("SHA-256").digest(encoded);
      return HexFormat.of().formatHex(sha, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads the one-line text form; throws IllegalArgumentException saying what is wrong. */
  public static ReleaseKey parse(String text) {
    String line = text.strip();
    if (line.length() > MAX_TEXT || line.contains("\n")) {
      throw new IllegalArgumentException("a release key is one line: ed25519 BASE64 [comment]");
    }
    String[] parts = line.split("\\s+", 3);
    if (parts.length < 2 || !parts[0].equals(PREFIX)) {
      throw new IllegalArgumentException("a release key is one line: ed25519 BASE64 [comment] (as 'rackroll release"
          + " keygen' writes it)");
    }
    try {
      byte[] encoded = Base64.getDecoder().decode(parts[1]);
      PublicKey key = KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(encoded));
      return new ReleaseKey(idOf(key.getEncoded()), key);
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 public key: " + e.getMessage());
    }
  }

  /** The one-line text form, ending with {@code comment} when not empty. */
  public String format(String comment) {
    String base = PREFIX + " " + Base64.getEncoder().encodeToString(key.getEncoded());
    return comment.isBlank() ? base : base + " " + comment.strip().replaceAll("\\s+", "-");
  }

  /** Reads an Ed25519 private key from its PKCS#8 PEM. */
  public static PrivateKey privateKey(String pem) {
    String body = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
    try {
      return KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 private key in PEM (as 'rackroll release keygen' writes it)");
    }
  }

  /** An Ed25519 private key as PKCS#8 PEM. */
  public static String privateKeyPem(PrivateKey key) {
    return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets
        .US_ASCII)).encodeToString(key.getEncoded()) + "\n-----END PRIVATE KEY-----\n";
  }

  /** The public half of Ed25519 private {@code key}, derived from its seed. */
  public static ReleaseKey publicOf(PrivateKey key) {
    try {
      byte[] seed = ASN1OctetString.getInstance(PrivateKeyInfo.getInstance(key.getEncoded()).parsePrivateKey())
          .getOctets();
      byte[] raw = new Ed25519PrivateKeyParameters(seed).generatePublicKey().getEncoded();
      byte[] encoded = new SubjectPublicKeyInfo(new AlgorithmIdentifier(EdECObjectIdentifiers.id_Ed25519), raw)
          .getEncoded();
      return of(KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(encoded)));
    } catch (java.io.IOException | RuntimeException | GeneralSecurityException e) {
      throw new IllegalArgumentException("not an Ed25519 private key: " + e.getMessage());
    }
  }

  static byte[] sign(PrivateKey key, byte[] message) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(key);
      s.update(message);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot sign with this key: " + e.getMessage(), e);
    }
  }

  boolean verifies(byte[] message, byte[] signature) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(key);
      s.update(message);
      return s.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }
}
