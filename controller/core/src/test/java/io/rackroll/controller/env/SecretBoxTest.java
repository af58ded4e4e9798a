package io.rackroll.controller.env;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretBoxTest {
  @TempDir Path dir;

  @Test
  void sealsWithAKeyOnlyItsOwnerReadsAndOpensOnlyUnderTheSameName() throws Exception {
    SecretBox box = SecretBox.open(dir);
    assertThat(Files.getPosixFilePermissions(dir.resolve(SecretBox.KEY_FILE)))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    String sealed = box.seal("production", "db.password", "hunter2");
    assertThat(sealed).doesNotContain("hunter2");
    assertThat(box.seal("production", "db.password", "hunter2")).as("a fresh nonce each time").isNotEqualTo(sealed);
    assertThat(SecretBox.open(dir).open("production", "db.password", sealed)).as("the same key after a restart")
        .isEqualTo("hunter2");
    // Moved to another environment or name, or damaged: refused, naming the secret and never its value.
    assertThatThrownBy(() -> box.open("staging", "db.password", sealed))
        .hasMessage("secret db.password of staging does not decrypt with secrets.key (a different key, or a damaged"
            + " value); set it again with 'rackroll env secret set staging db.password'");
    String damaged = sealed.substring(0, 20) + (sealed.charAt(20) == 'A' ? 'B' : 'A') + sealed.substring(21);
    assertThatThrownBy(() -> box.open("production", "db.password", damaged)).hasMessageNotContaining("hunter2");
  }

  @Test
  void aDigestNamesAConfigurationWithoutRevealingIt() throws Exception {
    SecretBox box = SecretBox.open(dir);
    java.util.Map<String, String> vars = java.util.Map.of("greeting", "hi", "db.password", "hunter2");
    String d = box.digest("production", vars);
    assertThat(d).hasSize(32).doesNotContain("hunter2").isEqualTo(box.digest("production", new java.util.TreeMap<>(vars)));
    assertThat(box.digest("production", java.util.Map.of("greeting", "hi", "db.password", "hunter3"))).isNotEqualTo(d);
    assertThat(box.digest("staging", vars)).isNotEqualTo(d);
    // Names and values cannot be shifted into each other.
    assertThat(box.digest("e", java.util.Map.of("ab", "c"))).isNotEqualTo(box.digest("e", java.util.Map.of("a", "bc")));
    Path other = java.nio.file.Files.createDirectories(dir.resolve("other"));
    assertThat(SecretBox.open(other).digest("production", vars)).as("keyed: another controller's differs")
        .isNotEqualTo(d);
  }

  @Test
  void aKeyFileOthersCanReadIsRefused() throws Exception {
    SecretBox.open(dir);
    Files.setPosixFilePermissions(dir.resolve(SecretBox.KEY_FILE), PosixFilePermissions.fromString("rw-r--r--"));
    assertThatThrownBy(() -> SecretBox.open(dir)).hasMessageEndingWith("is readable by others (rw-r--r--);"
        + " make it owner-only: chmod 600 " + dir.resolve(SecretBox.KEY_FILE));
  }
}
