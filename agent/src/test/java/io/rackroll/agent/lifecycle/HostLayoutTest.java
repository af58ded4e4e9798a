package io.rackroll.agent.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The on-host layout: every path from a checked name, and only our directories taken for apps. */
class HostLayoutTest {
  @TempDir Path apps;

  @Test
  void pathsComeFromCheckedNamesOnly() {
    HostLayout layout = new HostLayout(apps);
    assertThat(layout.release("web", "1.4.2~0a1b")).isEqualTo(apps.resolve("web/releases/1.4.2~0a1b"));
    assertThat(layout.current("web")).isEqualTo(apps.resolve("web/current"));
    assertThat(HostLayout.appOf(layout.release("web", "1"))).isEqualTo(apps.resolve("web").toAbsolutePath());
    assertThatThrownBy(() -> layout.app("../etc")).hasMessageStartingWith("app name: ../etc");
    assertThatThrownBy(() -> layout.release("web", "..")).hasMessageStartingWith("release: ..");
  }

  @Test
  void appNamesAreOurDirectoriesOnly() throws Exception {
    Files.createDirectories(apps.resolve("web"));
    Files.createDirectories(apps.resolve("lost+found"));
    Files.writeString(apps.resolve("notes.txt"), "x");
    assertThat(new HostLayout(apps).appNames()).containsExactly("web");
  }
}
