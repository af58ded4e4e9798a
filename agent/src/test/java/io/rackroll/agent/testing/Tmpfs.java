package io.rackroll.agent.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A real size-limited tmpfs for tests of full and read-only disks. Mounting needs root (the build
 * machines have it); elsewhere the test is skipped with the reason, never faked.
 */
public final class Tmpfs implements AutoCloseable {
  public final Path dir;

  private Tmpfs(Path dir) {
    this.dir = dir;
  }

  /** Mounts a tmpfs of {@code size} (mount syntax: "512k", "8m") on {@code dir}, creating it. */
  public static Tmpfs mount(Path dir, String size) throws IOException, InterruptedException {
    Files.createDirectories(dir);
    String out = run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString());
    assumeTrue(out == null, "mounting a size-limited tmpfs needs root; skipped: " + out);
    return new Tmpfs(dir);
  }

  /**
   * Makes the mount read-only, as a disk the kernel remounted after errors looks to programs:
   * writes fail with EROFS. Changes the mount, not the file system, so files deleted but still
   * cached do not make it "busy".
   */
  public void readOnly() throws IOException, InterruptedException {
    remount("remount,bind,ro");
  }

  public void writable() throws IOException, InterruptedException {
    remount("remount,bind,rw");
  }

  private void remount(String options) throws IOException, InterruptedException {
    String out = run("mount", "-o", options, dir.toString());
    if (out != null) {
      throw new IOException("mount -o " + options + " " + dir + " failed: " + out);
    }
  }

  /** Runs a command; null when it succeeded, else its output. */
  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    return p.waitFor() == 0 ? null : out;
  }

  @Override
  public void close() throws IOException, InterruptedException {
    if (run("umount", dir.toString()) != null) {
      run("umount", "-l", dir.toString()); // still busy: detach now, freed when the last user goes
    }
  }
}
