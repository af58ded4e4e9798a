package io.rackroll.controller.store;

import io.rackroll.trust.SecureFiles;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Where the controller keeps its state: the embedded SQLite store under the data directory, or a
 * PostgreSQL database, whose commits survive a SIGKILL or a power cut the moment they return.
 *
 * @param url empty for the embedded store, else a {@code jdbc:postgresql://} URL
 * @param user empty for the driver's default (the URL's, or the operating system user)
 * @param passwordFile a file holding the password on its first line, readable by its owner only;
 *     null for none
 */
public record Database(String url, String user, Path passwordFile) {
  public static final String EMBEDDED = "embedded";
  private static final String POSTGRESQL = "jdbc:postgresql://";

  /** From the configuration's text; errors say what is expected. */
  public static Database of(String url, String user, String passwordFile) {
    String u = url == null ? "" : url.strip();
    String name = user == null ? "" : user.strip();
    String password = passwordFile == null ? "" : passwordFile.strip();
    if (u.isEmpty() || u.equals(EMBEDDED)) {
      if (!name.isEmpty() || !password.isEmpty()) {
        throw new IllegalArgumentException("databaseUser and databasePasswordFile go with a PostgreSQL database;"
            + " set database to its URL, e.g. jdbc:postgresql://db1:5432/rackroll");
      }
      return new Database("", "", null);
    }
    if (!u.startsWith(POSTGRESQL)) {
      throw new IllegalArgumentException("database: " + shown(u) + " (expected: embedded, or a PostgreSQL URL such as"
          + " jdbc:postgresql://db1:5432/rackroll)");
    }
    return new Database(u, name, password.isEmpty() ? null : Path.of(password));
  }

  public boolean embedded() {
    return url.isEmpty();
  }

  /** The store this names, migrated to the current schema; {@code dataDir} holds the embedded one. */
  public Store open(Path dataDir) {
    if (embedded()) {
      return JdbcStore.embedded(dataDir);
    }
    String password;
    try {
      password = password();
    } catch (IOException e) {
      throw new StoreException(e.getMessage(), e);
    }
    return JdbcStore.postgres(url, user, password, shown(url));
  }

  /** The password from {@code passwordFile} (checked: its owner's alone), empty with none. */
  public String password() throws IOException {
    if (passwordFile == null) {
      return "";
    }
    Set<PosixFilePermission> mode;
    String password;
    try {
      mode = Files.getPosixFilePermissions(passwordFile);
      password = Files.readString(passwordFile).lines().findFirst().orElse("");
    } catch (NoSuchFileException e) {
      throw new IOException("databasePasswordFile " + passwordFile + " does not exist; write the database password"
          + " on its first line (chmod 600)", e);
    } catch (IOException e) {
      String why = e instanceof AccessDeniedException ? "permission denied" : e.getMessage();
      throw new IOException("databasePasswordFile " + passwordFile + " cannot be read (" + why + "); it must be a"
          + " file of the controller's user (the packages run it as rackroll), mode 0600", e);
    }
    if (!SecureFiles.OWNER_ONLY.containsAll(mode)) {
      throw new IOException("databasePasswordFile " + passwordFile + " is readable by others ("
          + PosixFilePermissions.toString(mode) + "); make it owner-only: chmod 600 " + passwordFile);
    }
    return password;
  }

  /** The URL without its parameters, which may carry a password: for messages and logs. */
  static String shown(String url) {
    int q = url.indexOf('?');
    return q < 0 ? url : url.substring(0, q) + "?...";
  }

  @Override
  public String toString() {
    return embedded() ? "embedded SQLite" : "PostgreSQL at " + shown(url) + (user.isEmpty() ? "" : " as " + user);
  }
}
