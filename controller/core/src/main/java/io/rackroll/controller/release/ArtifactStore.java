package io.rackroll.controller.release;

import io.rackroll.controller.store.BlobStore;
import io.rackroll.release.UnpackLimits;
import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.DigestOutputStream;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Artifacts on the controller's disk, content-addressed: {@code <data>/artifacts/sha256/<hex>}.
 * An upload streams to {@code incoming/} while hashing, is fsynced, and is renamed into place only
 * once accepted, so a crash mid-upload leaves at most a stray file in {@code incoming/}, which
 * {@link #restore()} removes. Nothing here holds a whole artifact in memory.
 */
public final class ArtifactStore {
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");

  private final Path incoming;
  private final Path objects;
  private final long maxBytes;
  private final UnpackLimits unpackLimits;
  /** Where every controller node reads artifacts (several nodes on one database); null for one alone. */
  private final BlobStore shared;
  /** Copies from {@link #shared} under way, by digest: agents asking at once wait for one copy. */
  private final Map<String, CompletableFuture<Boolean>> copying = new ConcurrentHashMap<>();

  public ArtifactStore(Path dataDir, long maxBytes) {
    this(dataDir, maxBytes, UnpackLimits.NONE);
  }

  public ArtifactStore(Path dataDir, long maxBytes, UnpackLimits unpackLimits) {
    this(dataDir, maxBytes, unpackLimits, null);
  }

  /** With {@code shared}, where every controller node stores and reads artifacts (null: none). */
  public ArtifactStore(Path dataDir, long maxBytes, UnpackLimits unpackLimits, BlobStore shared) {
    this.shared = shared;
    this.incoming = dataDir.resolve("artifacts").resolve("incoming");
    this.objects = dataDir.resolve("artifacts").resolve("sha256");
    this.maxBytes = maxBytes;
    this.unpackLimits = unpackLimits;
  }

  /** Creates the directories and clears uploads a crash left behind. */
  public void restore() throws IOException {
    Files.createDirectories(objects);
    Files.createDirectories(incoming);
    try (Stream<Path> stale = Files.list(incoming)) {
      for (Path p : stale.toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** What a pushed artifact may unpack to; {@link ReleasePush} checks it while inspecting the upload. */
  UnpackLimits unpackLimits() {
    return unpackLimits;
  }

  /** The artifact with this digest, if stored. */
  public Path path(String digest) {
    if (!DIGEST.matcher(digest).matches()) {
      throw new IllegalArgumentException("digest: " + digest + " (expected: 64 lowercase hex characters of SHA-256)");
    }
    return objects.resolve(digest);
  }

  public boolean has(String digest) {
    return Files.isRegularFile(path(digest));
  }

  /**
   * Among several nodes: stores the artifact {@code digest} (on this node's disk) where every node
   * reads it. Done before its release is recorded, so no node ever serves a release it cannot find.
   */
  public void share(String digest) throws IOException {
    if (shared == null) {
      return;
    }
    Path file = path(digest);
    try (InputStream in = Files.newInputStream(file)) {
      shared.put(digest, Files.size(file), in);
    }
  }

  /**
   * Completes with whether artifact {@code digest} is on this node's disk, copying it there from
   * where all nodes store artifacts first when another node pushed it (on {@code io}; one copy for
   * every caller at once). The copy is checked against its digest before it is kept.
   */
  public CompletableFuture<Boolean> local(String digest, Executor io) {
    if (has(digest)) {
      return CompletableFuture.completedFuture(true);
    }
    if (shared == null) {
      return CompletableFuture.completedFuture(false);
    }
    return copying.computeIfAbsent(digest, d -> CompletableFuture.supplyAsync(() -> copyIn(d), io)
        .whenComplete((done, e) -> copying.remove(d)));
  }

  private boolean copyIn(String digest) {
    Path part = incoming.resolve(UUID.randomUUID() + ".part");
    try {
      MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
      try (OutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(part,
          StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 16), sha256)) {
        if (!shared.copy(digest, out)) {
          return false;
        }
      }
      String got = HexFormat.of().formatHex(sha256.digest());
      if (!got.equals(digest)) {
        throw new IOException("the database's copy of artifact sha256 " + digest + " has sha256 " + got
            + "; it was not kept (push the release again)");
      }
      try (FileChannel file = FileChannel.open(part, StandardOpenOption.WRITE)) {
        file.force(true);
      }
      Path target = path(digest);
      if (!Files.exists(target)) {
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel dir = FileChannel.open(objects, StandardOpenOption.READ)) {
          dir.force(true);
        }
      }
      return true;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    } finally {
      try {
        Files.deleteIfExists(part);
      } catch (IOException e) {
        // restore() clears incoming/ at the next start
      }
    }
  }

  /** Starts an upload of {@code expectedBytes} bytes. Confined to one thread at a time. */
  public Upload begin(long expectedBytes) throws IOException {
    if (expectedBytes < 1 || expectedBytes > maxBytes) {
      throw new IllegalArgumentException("artifact size: " + expectedBytes + " bytes (expected: 1 to " + maxBytes
          + "; raise maxArtifactSize in controller.yaml for larger releases)");
    }
    Path file = incoming.resolve(UUID.randomUUID() + ".part");
    return new Upload(file, expectedBytes, FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
  }

  /** One artifact arriving. Not thread-safe: the caller serializes writes. */
  public final class Upload implements AutoCloseable {
    private final Path file;
    private final long expected;
    private final FileChannel channel;
    private final MessageDigest sha256;
    private long received;
    private boolean committed;

    private Upload(Path file, long expected, FileChannel channel) {
      this.file = file;
      this.expected = expected;
      this.channel = channel;
      try {
        this.sha256 = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
    }

    public void write(ByteBuffer chunk) throws IOException {
      if (received + chunk.remaining() > expected) {
        throw new IllegalArgumentException("artifact is larger than the announced " + expected + " bytes");
      }
      sha256.update(chunk.duplicate());
      while (chunk.hasRemaining()) {
        received += channel.write(chunk);
      }
    }

    /** Completes the bytes: checks the size, fsyncs, and returns the digest. The file stays in incoming/. */
    public String finish() throws IOException {
      if (received != expected) {
        throw new IllegalArgumentException("artifact is " + received + " bytes, " + expected + " were announced");
      }
      channel.force(true);
      channel.close();
      return HexFormat.of().formatHex(sha256.digest());
    }

    public Path file() {
      return file;
    }

    /** Moves the finished upload to its content address; a copy already there wins (same bytes). */
    public void commit(String digest) throws IOException {
      Path target = path(digest);
      if (Files.exists(target)) {
        Files.deleteIfExists(file);
      } else {
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
        try (FileChannel dir = FileChannel.open(objects, StandardOpenOption.READ)) {
          dir.force(true);
        }
      }
      committed = true;
    }

    /** Drops an upload that was refused or broken off. Idempotent. */
    @Override
    public void close() throws IOException {
      if (channel.isOpen()) {
        channel.close();
      }
      if (!committed) {
        Files.deleteIfExists(file);
      }
    }
  }
}
