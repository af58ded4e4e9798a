package io.rackroll.agent.artifact;

import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.rackroll.proto.v1.ArtifactChunk;
import io.rackroll.proto.v1.ArtifactsGrpc;
import io.rackroll.proto.v1.FetchRequest;
import io.rackroll.release.Sizes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's artifact cache: {@code <state>/cache/<sha256>}. A download goes to
 * {@code <sha256>.part}, appended chunk by chunk; after a broken connection the next attempt
 * resumes from the bytes already there. A finished download is verified (size and SHA-256) before
 * it is renamed into place, and a cached artifact is verified again before use: a corrupt file is
 * deleted and fetched again, never unpacked. So nothing here is forced to the disk: after a power
 * cut, whatever the disk kept of a download is checked like any other file (the install, which
 * must survive one, syncs what it unpacks).
 *
 * <p>Blocking: call from the agent's lifecycle thread, never from a gRPC callback.
 */
public final class ArtifactCache implements ArtifactSource {
  /** Artifact bytes received from the controller since this agent started. */
  public long downloadedBytes() {
    return downloaded.get();
  }
  private static final Logger log = LoggerFactory.getLogger(ArtifactCache.class);
  private static final Pattern DIGEST = Pattern.compile("[0-9a-f]{64}");

  private final Path dir;
  private final ArtifactsGrpc.ArtifactsBlockingStub artifacts;
  /** Deadline of one fetch call; a resumed fetch gets a fresh one. */
  private final Duration callDeadline;
  /** The least time between two progress reports of one download. */
  private final long progressEveryNanos;
  private final java.util.concurrent.atomic.AtomicLong downloaded = new java.util.concurrent.atomic.AtomicLong();

  public ArtifactCache(Path dir, Channel controller, Duration callDeadline) {
    this(dir, controller, callDeadline, Duration.ofSeconds(1));
  }

  ArtifactCache(Path dir, Channel controller, Duration callDeadline, Duration progressEvery) {
    this.dir = dir;
    this.artifacts = ArtifactsGrpc.newBlockingStub(controller);
    this.callDeadline = callDeadline;
    this.progressEveryNanos = progressEvery.toNanos();
  }

  /** What went wrong with a download, so the lifecycle can report it precisely. */
  public static final class DownloadException extends IOException {
    public enum Kind { UNREACHABLE, CORRUPT, DISK_FULL, REFUSED }

    private final Kind kind;

    public DownloadException(Kind kind, String message, Throwable cause) {
      super(message, cause);
      this.kind = kind;
    }

    public Kind kind() {
      return kind;
    }
  }

  /**
   * Returns the verified artifact, downloading or resuming as needed. One attempt: on
   * {@link DownloadException.Kind#UNREACHABLE} the partial file is kept and the next call resumes;
   * on {@link DownloadException.Kind#CORRUPT} it is deleted and the next call starts over.
   */
  @Override
  public Path fetch(String digest, long size, LongConsumer progress) throws IOException {
    if (!DIGEST.matcher(digest).matches()) {
      throw new IllegalArgumentException("digest: " + digest + " (expected: 64 lowercase hex characters)");
    }
    Files.createDirectories(dir);
    Path done = dir.resolve(digest);
    if (Files.exists(done)) {
      if (Files.size(done) == size && sha256(done).equals(digest)) {
        return done;
      }
      log.warn("cached artifact {} is corrupt; deleting it and downloading again", digest);
      Files.delete(done);
    }
    Path part = dir.resolve(digest + ".part");
    long have = Files.exists(part) ? Files.size(part) : 0;
    if (have > size) {
      Files.delete(part);
      have = 0;
    }
    ensureSpace(size - have);
    if (have > 0) {
      log.info("resuming download of artifact {} at byte {} of {}", digest.substring(0, 12), have, size);
    }
    // Hashed as it arrives (a resumed download hashes what it had first): the file is read once.
    MessageDigest md = sha256();
    if (have > 0) {
      hash(md, part);
    }
    if (have < size) {
      download(digest, size, part, have, progress, md);
    }
    if (Files.size(part) != size || !HexFormat.of().formatHex(md.digest()).equals(digest)) {
      Files.delete(part);
      throw new DownloadException(DownloadException.Kind.CORRUPT, "artifact " + digest.substring(0, 12)
          + "… failed verification (size or SHA-256 differ); discarded, the next attempt downloads it again", null);
    }
    Files.move(part, done, StandardCopyOption.ATOMIC_MOVE);
    return done;
  }

  private void download(String digest, long size, Path part, long from, LongConsumer progress, MessageDigest md)
      throws IOException {
    try (FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        Context.CancellableContext call = Context.current().withCancellation()) {
      out.position(from);
      long position = from;
      long reportedAt = System.nanoTime();
      Context previous = call.attach();
      try {
        Iterator<ArtifactChunk> chunks = artifacts.withDeadlineAfter(callDeadline.toMillis(), TimeUnit.MILLISECONDS)
            .fetch(FetchRequest.newBuilder().setDigest(digest).setOffset(from).build());
        while (chunks.hasNext()) {
          ArtifactChunk c = chunks.next();
          if (c.getOffset() != position || c.getTotalSize() != size) {
            throw new DownloadException(DownloadException.Kind.CORRUPT, "controller sent bytes at " + c.getOffset()
                + " of " + c.getTotalSize() + ", expected " + position + " of " + size, null);
          }
          ByteBuffer data = c.getData().asReadOnlyByteBuffer();
          md.update(data.duplicate());
          while (data.hasRemaining()) {
            position += out.write(data);
          }
          downloaded.addAndGet(c.getData().size());
          long now = System.nanoTime();
          if (now - reportedAt >= progressEveryNanos) {
            reportedAt = now;
            progress.accept(position);
          }
        }
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.NOT_FOUND || code == Status.Code.PERMISSION_DENIED || code == Status.Code.INVALID_ARGUMENT) {
          throw new DownloadException(DownloadException.Kind.REFUSED, "controller refused the download of "
              + digest.substring(0, 12) + "…: " + e.getStatus().getDescription(), e);
        }
        throw new DownloadException(DownloadException.Kind.UNREACHABLE, "download of " + digest.substring(0, 12)
            + "… broke off at byte " + position + " of " + size + " (" + e.getStatus().getCode()
            + "); the next attempt resumes there", e);
      } finally {
        call.detach(previous);
        call.cancel(null); // stop the stream if we left early
      }
    } catch (IOException e) {
      if (e instanceof DownloadException) {
        throw e;
      }
      if (isDiskFull(e)) {
        Files.deleteIfExists(part); // give the space back
        throw new DownloadException(DownloadException.Kind.DISK_FULL, "no space left on " + fileStore()
            + " while downloading artifact " + digest.substring(0, 12) + "… (" + Sizes.format(size)
            + "); free space and retry", e);
      }
      throw e;
    }
  }

  private void ensureSpace(long needed) throws IOException {
    long free = Files.getFileStore(dir).getUsableSpace();
    if (free < needed) {
      throw new DownloadException(DownloadException.Kind.DISK_FULL, "needs " + Sizes.format(needed) + " free on "
          + fileStore() + " for the download, has " + Sizes.format(free), null);
    }
  }

  private String fileStore() {
    try {
      FileStore fs = Files.getFileStore(dir);
      return fs.toString().split(" ")[0];
    } catch (IOException e) {
      return dir.toString();
    }
  }

  private static boolean isDiskFull(IOException e) {
    return String.valueOf(e.getMessage()).contains("No space left on device");
  }

  @Override
  public void keepOnly(java.util.Set<String> digests) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (java.util.stream.Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        String digest = name.endsWith(".part") ? name.substring(0, name.length() - ".part".length()) : name;
        if (DIGEST.matcher(digest).matches() && !digests.contains(digest)) {
          Files.deleteIfExists(f);
          log.info("removed cached artifact {}{}: no kept release or unfinished job needs it", digest,
              name.endsWith(".part") ? " (partial)" : "");
        }
      }
    }
  }

  static String sha256(Path file) throws IOException {
    MessageDigest md = sha256();
    hash(md, file);
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void hash(MessageDigest md, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      for (int n = in.read(buf); n > 0; n = in.read(buf)) {
        md.update(buf, 0, n);
      }
    }
  }
}
