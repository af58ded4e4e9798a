package io.rackroll.agent.inventory;

import io.rackroll.proto.v1.Cpu;
import io.rackroll.proto.v1.Disk;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.FileSystem;
import io.rackroll.proto.v1.Nic;
import io.rackroll.proto.v1.OperatingSystem;
import io.rackroll.proto.v1.SystemInfo;
import io.rackroll.release.HostFit;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import oshi.hardware.CentralProcessor;
import oshi.hardware.ComputerSystem;
import oshi.hardware.HWDiskStore;
import oshi.hardware.HardwareAbstractionLayer;
import oshi.hardware.NetworkIF;
import oshi.software.os.OSFileStore;

/**
 * Reads this host's hardware and OS facts with OSHI.
 *
 * <p>Every read is guarded on its own: in containers and VMs many sensors are missing or throw,
 * and one unreadable field must cost that field ("unknown" or 0), never the agent.
 */
public final class Inventory {
  private static final Logger log = LoggerFactory.getLogger(Inventory.class);
  public static final String UNKNOWN = "unknown";

  private final oshi.SystemInfo si;

  /** Constructing OSHI touches nothing yet; JNA unpacks its native library on first use (see jna.tmpdir). */
  public Inventory() {
    this.si = new oshi.SystemInfo();
  }

  public Facts read() {
    HardwareAbstractionLayer hal = si.getHardware();
    oshi.software.os.OperatingSystem os = si.getOperatingSystem();
    Facts.Builder f = Facts.newBuilder();
    f.setHostname(text(() -> os.getNetworkParams().getHostName()));
    ComputerSystem cs = guard("system", hal::getComputerSystem, null);
    f.setSystem(SystemInfo.newBuilder()
        .setVendor(cs == null ? UNKNOWN : text(cs::getManufacturer))
        .setModel(cs == null ? UNKNOWN : text(cs::getModel))
        .setSerial(cs == null ? UNKNOWN : text(cs::getSerialNumber))
        .setBaseboardSerial(cs == null ? UNKNOWN : text(() -> cs.getBaseboard().getSerialNumber())));
    CentralProcessor cpu = guard("cpu", hal::getProcessor, null);
    if (cpu != null) {
      f.setCpu(Cpu.newBuilder()
          .setModel(text(() -> cpu.getProcessorIdentifier().getName()))
          .setSockets(guard("cpu sockets", cpu::getPhysicalPackageCount, 0))
          .setPhysicalCores(guard("physical cores", cpu::getPhysicalProcessorCount, 0))
          .setLogicalCores(guard("logical cores", cpu::getLogicalProcessorCount, 0)));
    } else {
      f.setCpu(Cpu.newBuilder().setModel(UNKNOWN));
    }
    f.setArch(arch(System.getProperty("os.arch", UNKNOWN)));
    f.setMemoryBytes(guard("memory", () -> hal.getMemory().getTotal(), 0L));
    for (HWDiskStore d : guard("disks", hal::getDiskStores, java.util.List.<HWDiskStore>of())) {
      f.addDisks(Disk.newBuilder().setName(text(d::getName)).setModel(text(d::getModel)).setSizeBytes(Math.max(0, d.getSize())));
    }
    for (OSFileStore fs : guard("file systems", () -> os.getFileSystem().getFileStores(true), java.util.List.<OSFileStore>of())) {
      f.addFileSystems(FileSystem.newBuilder().setMount(text(fs::getMount)).setType(text(fs::getType))
          .setTotalBytes(Math.max(0, fs.getTotalSpace())).setFreeBytes(Math.max(0, fs.getUsableSpace())));
    }
    for (NetworkIF n : guard("network interfaces", () -> hal.getNetworkIFs(false), java.util.List.<NetworkIF>of())) {
      Nic.Builder nic = Nic.newBuilder().setName(text(n::getName)).setMac(text(n::getMacaddr))
          .setSpeedBitsPerSecond(Math.max(0, guard("nic speed", n::getSpeed, 0L)));
      for (String a : n.getIPv4addr()) {
        nic.addAddresses(a);
      }
      for (String a : n.getIPv6addr()) {
        nic.addAddresses(a);
      }
      f.addNics(nic);
    }
    f.setOs(OperatingSystem.newBuilder()
        .setFamily(text(os::getFamily))
        .setVersion(text(() -> os.getVersionInfo().getVersion()))
        .setKernel(text(() -> System.getProperty("os.version")))
        .setKind(HostFit.osKind(System.getProperty("os.name", ""))));
    f.setBootTimeEpochSeconds(guard("boot time", os::getSystemBootTime, 0L));
    return f.build();
  }

  /**
   * This host as a release's {@code requires} see it: the same figures as {@link #read}, without
   * reading disks, file systems and network interfaces, which a deploy checks twice and a full
   * read spends most of its time on.
   */
  public HostFit.Host host() {
    return new HostFit.Host(arch(System.getProperty("os.arch", UNKNOWN)),
        HostFit.osKind(System.getProperty("os.name", "")),
        guard("logical cores", () -> si.getHardware().getProcessor().getLogicalProcessorCount(), 0),
        guard("memory", () -> si.getHardware().getMemory().getTotal(), 0L));
  }

  /** The 1-minute load average, or -1 where the OS has none. */
  public double loadAverage() {
    return guard("load", () -> si.getHardware().getProcessor().getSystemLoadAverage(1)[0], -1.0);
  }

  /** Memory available to new processes, in bytes. */
  public long memoryAvailable() {
    return guard("available memory", () -> si.getHardware().getMemory().getAvailable(), 0L);
  }

  /**
   * Whether two readings differ in anything but the volatile parts (free space), which would
   * otherwise make every periodic check look like a change.
   */
  public static boolean changed(Facts before, Facts after) {
    return !stable(before).equals(stable(after));
  }

  private static Facts stable(Facts f) {
    Facts.Builder b = f.toBuilder();
    for (FileSystem.Builder fs : b.getFileSystemsBuilderList()) {
      fs.clearFreeBytes();
    }
    return b.build();
  }

  static String arch(String osArch) {
    return switch (osArch.toLowerCase(Locale.ROOT)) {
      case "amd64", "x86_64" -> "x86_64";
      case "aarch64", "arm64" -> "aarch64";
      default -> osArch;
    };
  }

  private static String text(Supplier<String> read) {
    String v = guard("field", read, null);
    return v == null || v.isBlank() ? UNKNOWN : v.trim();
  }

  private static <T> T guard(String what, Supplier<T> read, T fallback) {
    try {
      T v = read.get();
      return v == null ? fallback : v;
    } catch (RuntimeException | LinkageError e) {
      log.debug("cannot read {}: {}", what, e.toString());
      return fallback;
    }
  }
}
