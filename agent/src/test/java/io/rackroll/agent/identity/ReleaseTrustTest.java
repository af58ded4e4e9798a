package io.rackroll.agent.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.trust.KeyStatement;
import io.rackroll.trust.ReleaseKey;
import io.rackroll.trust.ReleaseSignature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A host's own release trust: its policy, statements it accepts and refuses, and what survives a restart. */
class ReleaseTrustTest {
  private static final String DIGEST = "a".repeat(64);
  @TempDir Path state;
  private final KeyPair old = ReleaseKey.generate();
  private final KeyPair next = ReleaseKey.generate();
  private final KeyPair stranger = ReleaseKey.generate();

  private static ReleaseKey pub(KeyPair k) {
    return ReleaseKey.of(k.getPublic());
  }

  private static String signed(KeyPair k, String version) {
    return ReleaseSignature.sign(k.getPrivate(), "web", version, DIGEST).format();
  }

  private static String statement(KeyPair signer, KeyStatement.Action action, KeyPair subject) {
    return KeyStatement.sign(signer.getPrivate(), action, pub(subject), Instant.now()).format();
  }

  @Test
  void theHostRefusesWhatNoTrustedKeySignedWithOneLineNamingTheKey() throws Exception {
    ReleaseTrust trust = new ReleaseTrust(state, List.of(pub(old)), ReleaseTrust.Policy.ON);
    assertThat(trust.refusal("web", "1", DIGEST, signed(old, "1"))).isEmpty();
    assertThat(trust.refusal("web", "1", DIGEST, "")).hasValue("web@1 is not signed, and this host runs only signed"
        + " releases (requireSignedReleases); sign it with 'rackroll release sign' and push it again");
    assertThat(trust.refusal("web", "1", DIGEST, signed(stranger, "1"))).hasValue("web@1: signed by key "
        + pub(stranger).id() + ", which this host does not trust (releaseKeys, or a key statement)");
    assertThat(trust.refusal("web", "2", DIGEST, signed(old, "1"))).get().asString()
        .startsWith("web@2: the signature by key " + pub(old).id() + " is for web@1");
    assertThat(trust.refusal("web", "1", DIGEST, "garbage")).get().asString().startsWith("web@1: the release signature"
        + " does not start with");
  }

  @Test
  void offChecksNothingAndAutoRequiresSignaturesOnceTheHostHasEverTrustedAKey() throws Exception {
    assertThat(new ReleaseTrust(state, List.of(pub(old)), ReleaseTrust.Policy.OFF).refusal("web", "1", DIGEST, ""))
        .isEmpty();
    ReleaseTrust auto = new ReleaseTrust(state, List.of(), ReleaseTrust.Policy.AUTO);
    assertThat(auto.required()).isFalse();
    auto.enrolled(List.of(pub(old)));
    assertThat(auto.required()).isTrue();
    // Withdrawing every key does not turn the requirement off: a stolen key cannot open the host up.
    auto.apply(List.of(statement(old, KeyStatement.Action.WITHDRAW, old)));
    assertThat(auto.keyIds()).isEmpty();
    assertThat(auto.required()).isTrue();
    assertThat(new ReleaseTrust(state, List.of(), ReleaseTrust.Policy.AUTO).required()).as("after a restart").isTrue();
    assertThatThrownBy(() -> ReleaseTrust.Policy.parse("maybe")).hasMessageStartingWith("requireSignedReleases:"
        + " \"maybe\" (expected: true, false or auto");
  }

  @Test
  void aRotationSignedByATrustedKeyMovesTheHostToTheNewKeyAndSurvivesARestart() throws Exception {
    ReleaseTrust trust = new ReleaseTrust(state, List.of(pub(old)), ReleaseTrust.Policy.ON);
    String trustNext = statement(old, KeyStatement.Action.TRUST, next);
    String withdrawOld = statement(next, KeyStatement.Action.WITHDRAW, old);
    // Offered out of order: the withdrawal relies on the new key, which the other statement brings.
    assertThat(trust.apply(List.of(withdrawOld, trustNext))).hasSize(2);
    assertThat(trust.keyIds()).containsExactly(pub(next).id());
    assertThat(trust.refusal("web", "2", DIGEST, signed(next, "2"))).isEmpty();
    assertThat(trust.refusal("web", "2", DIGEST, signed(old, "2"))).get().asString().contains("does not trust");
    assertThat(trust.apply(List.of(withdrawOld, trustNext))).as("each statement once").isEmpty();

    // The configuration still lists the old key: withdrawn stays withdrawn, across a restart.
    ReleaseTrust again = new ReleaseTrust(state, List.of(pub(old)), ReleaseTrust.Policy.ON);
    assertThat(again.keyIds()).containsExactly(pub(next).id());
    // A withdrawn key is never trusted again, not even by a statement of a trusted key.
    assertThat(again.apply(List.of(statement(next, KeyStatement.Action.TRUST, old)))).isEmpty();
    assertThat(again.keyIds()).containsExactly(pub(next).id());
  }

  @Test
  void statementsByKeysTheHostDoesNotTrustOrAlteredAfterSigningChangeNothing() throws Exception {
    ReleaseTrust trust = new ReleaseTrust(state, List.of(pub(old)), ReleaseTrust.Policy.ON);
    String forged = statement(stranger, KeyStatement.Action.TRUST, stranger);
    String altered = statement(old, KeyStatement.Action.TRUST, next).replace("action: trust", "action: withdraw");
    assertThat(trust.apply(List.of(forged, altered, "not a statement"))).isEmpty();
    assertThat(trust.keyIds()).containsExactly(pub(old).id());
    assertThat(state.resolve(ReleaseTrust.FILE)).doesNotExist();
  }

  @Test
  void anUnreadableTrustFileStopsTheAgentWithWhatToDo() throws Exception {
    Files.writeString(state.resolve(ReleaseTrust.FILE), "{not json");
    assertThatThrownBy(() -> new ReleaseTrust(state, List.of(), ReleaseTrust.Policy.AUTO))
        .hasMessageContaining("cannot be read").hasMessageContaining("restore it, or remove it");
  }
}
