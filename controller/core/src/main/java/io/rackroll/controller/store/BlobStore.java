package io.rackroll.controller.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Artifacts' bytes in the database, for controller nodes that share it (PostgreSQL): written once
 * at push, read by any node that has not got the artifact on its own disk yet. Streamed in chunks
 * both ways, never a whole artifact in memory.
 */
public interface BlobStore {
  /** Bytes per chunk. */
  int CHUNK = 1 << 20;

  /** Whether the artifact with {@code digest} is stored complete. */
  boolean has(String digest);

  /**
   * Stores {@code size} bytes read from {@code in} as {@code digest}, in one transaction: complete
   * or not at all. Nothing happens when it is stored already.
   */
  void put(String digest, long size, InputStream in) throws IOException;

  /** Writes the artifact's bytes to {@code out}, in order; false when it is not stored. */
  boolean copy(String digest, OutputStream out) throws IOException;
}
