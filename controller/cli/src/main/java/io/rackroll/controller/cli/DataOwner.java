package io.rackroll.controller.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Who may write into a controller's data directory: the user it belongs to. The controller runs
 * as that user (the packages' {@code rackroll}) and must read everything there, so a command
 * that writes there as anyone else (root, typically) would leave files the controller cannot
 * open at its next start, which under systemd is a restart loop. Such a command is refused
 * before it writes anything, naming the user to run it as.
 */
final class DataOwner {
  private DataOwner() {}

  /**
   * Throws unless the user running this is the owner of {@code data} (or {@code data} does not
   * exist yet: the command creates it as this user).
   */
  static void require(Path data, String command) throws IOException {
    if (!Files.exists(data)) {
      return;
    }
    String owner = Files.getOwner(data).getName();
    String me = System.getProperty("user.name");
    if (!owner.equals(me)) {
      throw new IllegalStateException(data + " belongs to " + owner + ", and what 'rackroll " + command
          + "' writes there must too, or the controller cannot read it; run it as " + owner + ": sudo -u " + owner
          + " rackroll " + command + " ...");
    }
  }
}
