package io.rackroll.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * The system clock moved by an offset read from a file ({@code PT30M}, {@code -PT2H}; missing means
 * none), re-read when the file changes. For end-to-end tests that need the controller's time to
 * reach a change window's end without waiting for it: {@link ClockedController} runs a controller
 * on it. Test code only; the production controller has no way to move its clock.
 */
final class OffsetFileClock extends Clock {
  private static final long RECHECK_NANOS = Duration.ofMillis(50).toNanos();
  private final Path file;
  private volatile Duration offset = Duration.ZERO;
  private volatile long checkedAt = System.nanoTime() - RECHECK_NANOS;
  private volatile long modified = Long.MIN_VALUE;

  OffsetFileClock(Path file) {
    this.file = file;
    offset(); // a bad file fails the start, not some later tick
  }

  @Override
  public Instant instant() {
    return Instant.now().plus(offset());
  }

  private Duration offset() {
    long now = System.nanoTime();
    if (now - checkedAt < RECHECK_NANOS) {
      return offset;
    }
    synchronized (this) {
      checkedAt = now;
      try {
        long m = Files.getLastModifiedTime(file).toMillis() ^ Files.size(file);
        if (m != modified) {
          offset = Duration.parse(Files.readString(file).strip());
          modified = m;
        }
      } catch (NoSuchFileException e) {
        offset = Duration.ZERO;
        modified = Long.MIN_VALUE;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read clock offset file " + file, e);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("clock offset file " + file + ": expected a duration like PT30M", e);
      }
      return offset;
    }
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
