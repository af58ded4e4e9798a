package io.rackroll.agent.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.FileSystem;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads this very machine: whatever it is (VM, container, bare metal), the read must complete. */
class InventoryTest {
  @TempDir static Path jna;

  @BeforeAll
  static void keepJnaInTheTestDirectory() {
    System.setProperty("jna.tmpdir", jna.toString());
  }

  @Test
  void readsTheLiveHost() {
    Facts f = new Inventory().read();
    assertThat(f.getHostname()).isNotBlank();
    assertThat(f.getCpu().getLogicalCores()).isEqualTo(Runtime.getRuntime().availableProcessors());
    assertThat(f.getMemoryBytes()).isPositive();
    assertThat(f.getArch()).isIn("x86_64", "aarch64", System.getProperty("os.arch"));
    assertThat(f.getOs().getFamily()).isNotBlank();
    assertThat(f.getOs().getKernel()).isEqualTo(System.getProperty("os.version"));
    assertThat(f.getFileSystemsList()).anySatisfy(fs -> assertThat(fs.getMount()).isEqualTo("/"));
    // Fields a VM cannot read are "unknown", never empty.
    assertThat(f.getSystem().getSerial()).isNotEmpty();
    assertThat(f.getSystem().getVendor()).isNotEmpty();
  }

  @Test
  void theHostReleasesAreCheckedAgainstIsTheFullReadOfIt() {
    Inventory inventory = new Inventory();
    assertThat(inventory.host()).isEqualTo(io.rackroll.release.HostFit.Host.of(inventory.read()));
  }

  @Test
  void freeSpaceAloneIsNotAChange() {
    Facts a = Facts.newBuilder().setHostname("h").addFileSystems(FileSystem.newBuilder().setMount("/").setFreeBytes(10)).build();
    Facts lessFree = a.toBuilder().setFileSystems(0, a.getFileSystems(0).toBuilder().setFreeBytes(5)).build();
    Facts renamed = a.toBuilder().setHostname("h2").build();
    Facts moreMemory = a.toBuilder().setMemoryBytes(1L << 35).build();
    assertThat(Inventory.changed(a, lessFree)).isFalse();
    assertThat(Inventory.changed(a, renamed)).isTrue();
    assertThat(Inventory.changed(a, moreMemory)).isTrue();
  }

  @Test
  void architectureNamesAreNormalized() {
    assertThat(Inventory.arch("amd64")).isEqualTo("x86_64");
    assertThat(Inventory.arch("arm64")).isEqualTo("aarch64");
    assertThat(Inventory.arch("riscv64")).isEqualTo("riscv64");
  }
}
