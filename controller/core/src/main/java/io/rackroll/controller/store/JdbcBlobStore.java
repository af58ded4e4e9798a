package io.rackroll.controller.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.sql.PreparedStatement;
import java.sql.ResultSet;

/** {@link BlobStore} in PostgreSQL: {@code artifact_blobs} and {@code artifact_chunks}. */
final class JdbcBlobStore implements BlobStore {
  private final Jdbc db;

  JdbcBlobStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public boolean has(String digest) {
    return !db.strings("look for artifact " + digest, "SELECT digest FROM artifact_blobs WHERE digest = ?", digest)
        .isEmpty();
  }

  @Override
  public void put(String digest, long size, InputStream in) throws IOException {
    try {
      db.inTransaction("store artifact " + digest + " for every node", c -> {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO artifact_blobs (digest, size) VALUES (?, ?)"
            + " ON CONFLICT (digest) DO NOTHING")) {
          ps.setString(1, digest);
          ps.setLong(2, size);
          if (ps.executeUpdate() == 0) {
            return null; // stored already (the same bytes: the digest names them)
          }
        }
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT INTO artifact_chunks (digest, seq, bytes) VALUES (?, ?, ?)")) {
          long left = size;
          for (int seq = 0; left > 0; seq++) {
            byte[] chunk = in.readNBytes((int) Math.min(CHUNK, left));
            if (chunk.length == 0) {
              throw new UncheckedIOException(new IOException("artifact " + digest + " ended " + left + " bytes early"));
            }
            ps.setString(1, digest);
            ps.setInt(2, seq);
            ps.setBytes(3, chunk);
            ps.executeUpdate();
            left -= chunk.length;
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        return null;
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  @Override
  public boolean copy(String digest, OutputStream out) throws IOException {
    try {
      return db.inTransaction("read artifact " + digest, c -> {
        if (!has(digest)) {
          return false;
        }
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT bytes FROM artifact_chunks WHERE digest = ? ORDER BY seq")) {
          ps.setFetchSize(2); // a cursor: two chunks in memory at most
          ps.setString(1, digest);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              out.write(rs.getBytes(1));
            }
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        return true;
      });
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }
}
