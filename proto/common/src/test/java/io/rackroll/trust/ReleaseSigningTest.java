package io.rackroll.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.security.KeyPair;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Release keys, signatures and key statements: made with the JDK's Ed25519, read strictly, verified by hosts. */
class ReleaseSigningTest {
  private static final String DIGEST = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  private final KeyPair release = ReleaseKey.generate();
  private final ReleaseKey key = ReleaseKey.of(release.getPublic());

  @Test
  void aKeyReadsBackFromItsTextAndFromItsPrivateHalf() {
    assertThat(ReleaseKey.parse(key.format("release-2026"))).isEqualTo(key);
    assertThat(ReleaseKey.publicOf(ReleaseKey.privateKey(ReleaseKey.privateKeyPem(release.getPrivate())))).isEqualTo(key);
    assertThat(key.id()).matches("[0-9a-f]{16}");
    assertThatThrownBy(() -> ReleaseKey.parse("ssh-rsa AAAA")).hasMessageStartingWith("a release key is one line");
    assertThatThrownBy(() -> ReleaseKey.parse("ed25519 bm90IGEga2V5")).hasMessageStartingWith("not an Ed25519 public key");
    assertThatThrownBy(() -> ReleaseKey.privateKey("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"))
        .hasMessageStartingWith("not an Ed25519 private key");
  }

  @Test
  void aSignatureVerifiesForItsReleaseOnlyAndByTheKeyItNames() {
    ReleaseSignature s = ReleaseSignature.parse(ReleaseSignature.sign(release.getPrivate(), "web", "1.4.2", DIGEST).format());
    Map<String, ReleaseKey> trusted = Map.of(key.id(), key);
    assertThat(s.refusal("web", "1.4.2", DIGEST, trusted)).isEmpty();
    assertThat(s.refusal("web", "1.4.3", DIGEST, trusted)).hasValueSatisfying(why ->
        assertThat(why).isEqualTo("the signature by key " + key.id() + " is for web@1.4.2 (sha256 9f86d081884c...), not"
            + " this artifact"));
    assertThat(s.refusal("web", "1.4.2", "0".repeat(64), trusted)).hasValueSatisfying(why ->
        assertThat(why).contains("not this artifact"));
    ReleaseKey other = ReleaseKey.of(ReleaseKey.generate().getPublic());
    assertThat(s.refusal("web", "1.4.2", DIGEST, Map.of(other.id(), other))).hasValue("signed by key " + key.id()
        + ", which this host does not trust");
    // The same key id with another key (a forged id) does not verify.
    assertThat(s.refusal("web", "1.4.2", DIGEST, Map.of(key.id(), other))).hasValue("the signature by key " + key.id()
        + " does not verify (altered or forged)");
  }

  @Test
  void everyFlippedBitOfTheSignatureIsCaught() {
    ReleaseSignature s = ReleaseSignature.sign(release.getPrivate(), "web", "1", DIGEST);
    for (int bit = 0; bit < s.signature().length * 8; bit += 7) {
      byte[] flipped = s.signature().clone();
      flipped[bit / 8] ^= (byte) (1 << (bit % 8));
      ReleaseSignature altered = new ReleaseSignature("web", "1", DIGEST, s.keyId(), flipped);
      assertThat(ReleaseSignature.parse(altered.format()).refusal("web", "1", DIGEST, Map.of(key.id(), key)))
          .as("bit %d", bit).hasValue("the signature by key " + key.id() + " does not verify (altered or forged)");
    }
  }

  @Test
  void aSignatureIsReadStrictly() {
    String good = ReleaseSignature.sign(release.getPrivate(), "web", "1", DIGEST).format();
    assertThatThrownBy(() -> ReleaseSignature.parse("hello")).hasMessage("the release signature does not start with"
        + " \"rackroll release signature v1\"");
    assertThatThrownBy(() -> ReleaseSignature.parse(good.replace("release: web@1", "release: web")))
        .hasMessage("the release signature: release \"web\" is not NAME@VERSION");
    assertThatThrownBy(() -> ReleaseSignature.parse(good.replace("digest: sha256:", "digest: md5:")))
        .hasMessage("the release signature: digest is not sha256:HEX");
    assertThatThrownBy(() -> ReleaseSignature.parse(good + "extra: 1\n")).hasMessageContaining("has 5 fields");
    assertThatThrownBy(() -> ReleaseSignature.parse(good.replace("key: ", "kee: "))).hasMessage("the release signature"
        + " line 4: expected \"key: ...\"");
    assertThatThrownBy(() -> ReleaseSignature.parse("x".repeat(5000))).hasMessageContaining("longer than 4096 bytes");
  }

  @Test
  void aStatementIsSignedByTheKeyItNamesAndReadsBack() {
    ReleaseKey next = ReleaseKey.of(ReleaseKey.generate().getPublic());
    KeyStatement s = KeyStatement.sign(release.getPrivate(), KeyStatement.Action.TRUST, next,
        Instant.parse("2026-12-02T10:00:00.123Z"));
    KeyStatement read = KeyStatement.parse(s.format());
    assertThat(read.subject()).isEqualTo(next);
    assertThat(read.issued()).isEqualTo(Instant.parse("2026-12-02T10:00:00Z"));
    assertThat(read.signedBy(key)).isTrue();
    assertThat(read.signedBy(next)).isFalse();
    String text = s.format();
    String withdrawn = text.replace("action: trust", "action: withdraw");
    assertThat(KeyStatement.parse(withdrawn).signedBy(key)).as("an action changed after signing").isFalse();
    byte[] sig = Base64.getDecoder().decode(text.substring(text.indexOf("signature: ") + 11).strip());
    assertThat(sig).hasSize(64);
  }

  @FuzzTest
  void signaturesAndStatements(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    try {
      ReleaseSignature s = ReleaseSignature.parse(text);
      s.refusal(s.name(), s.version(), s.digest(), Map.of());
    } catch (IllegalArgumentException refused) {
      oneLine(refused);
    }
    try {
      KeyStatement.parse(text).describe();
    } catch (IllegalArgumentException refused) {
      oneLine(refused);
    }
    try {
      ReleaseKey.parse(text);
    } catch (IllegalArgumentException refused) {
      oneLine(refused);
    }
  }

  private static void oneLine(IllegalArgumentException e) {
    if (e.getMessage() == null || e.getMessage().contains("\n")) {
      throw new AssertionError("a refusal that is not one line: " + e.getMessage());
    }
  }
}
