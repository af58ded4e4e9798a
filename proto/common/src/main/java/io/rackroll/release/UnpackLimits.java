package io.rackroll.release;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * What an artifact may unpack to. The controller checks every push against its ceilings
 * ({@code maxUnpackedSize}, {@code maxUnpackedEntries}, {@code maxCompressionRatio} in
 * controller.yaml) and records what the artifact really holds; each host then unpacks with the
 * recorded figures as its limits, so a decompression bomb is refused at push after reading only
 * as much as the ceiling allows, and no host ever writes more than the push recorded, whatever the
 * archive's headers claim.
 *
 * @param maxBytes the most file content the archive may hold
 * @param maxEntries the most entries (files, directories, links); 0 for no limit
 * @param maxRatio the most the gzip stream may expand, as unpacked bytes per compressed byte (once past
 *     {@link #RATIO_FLOOR}); 0 for no limit
 * @param source where the limit comes from, named in refusals (e.g. "maxUnpackedSize in controller.yaml")
 */
public record UnpackLimits(long maxBytes, long maxEntries, long maxRatio, String source) {
  /** Small archives may expand as much as they like: a ratio means something only past this. */
  public static final long RATIO_FLOOR = 16L << 20;
  /** Tar's own bytes around the content: headers, padding, long-name records, the end marker. */
  private static final long PER_ENTRY_OVERHEAD = 8L << 10;
  private static final long FIXED_OVERHEAD = 1L << 20;

  public static final UnpackLimits NONE = new UnpackLimits(Long.MAX_VALUE, 0, 0, "");

  public UnpackLimits {
    if (maxBytes < 0 || maxEntries < 0 || maxRatio < 0) {
      throw new IllegalArgumentException("unpack limits: " + maxBytes + " bytes, " + maxEntries + " entries, ratio "
          + maxRatio + " (expected: >= 0)");
    }
  }

  /** Thrown the moment an archive passes a limit; the message says which and what to do. */
  public static final class ExceededException extends IOException {
    ExceededException(String message) {
      super(message);
    }
  }

  /** Called before each entry's content is read: counts the entry and its declared size. */
  public void admit(long entries, long bytes) throws ExceededException {
    if (maxEntries > 0 && entries > maxEntries) {
      throw new ExceededException("holds more than " + maxEntries + " entries (" + source + ")");
    }
    if (bytes > maxBytes) {
      throw new ExceededException("unpacks to more than " + Sizes.format(maxBytes) + " (" + source + ")");
    }
  }

  /**
   * Wraps the decompressed stream so that no more than the limits allow is ever read from it,
   * whatever the tar headers say: content plus tar's own overhead, and at most {@code maxRatio}
   * times {@code compressedBytes}.
   */
  public InputStream bound(InputStream decompressed, long compressedBytes) {
    long tarOverhead = FIXED_OVERHEAD + (maxEntries == 0 ? 1L << 30 : maxEntries * PER_ENTRY_OVERHEAD);
    long byBytes = maxBytes > Long.MAX_VALUE - tarOverhead ? Long.MAX_VALUE : maxBytes + tarOverhead;
    long byRatio = maxRatio == 0 || compressedBytes > Long.MAX_VALUE / maxRatio ? Long.MAX_VALUE
        : Math.max(RATIO_FLOOR, maxRatio * compressedBytes);
    return new FilterInputStream(decompressed) {
      private long read;

      @Override
      public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
          count(1);
        }
        return b;
      }

      @Override
      public int read(byte[] buf, int off, int len) throws IOException {
        int n = super.read(buf, off, len);
        if (n > 0) {
          count(n);
        }
        return n;
      }

      @Override
      public long skip(long n) throws IOException {
        // Skipping still inflates: count it like a read.
        long skipped = super.skip(n);
        count(skipped);
        return skipped;
      }

      private void count(long n) throws ExceededException {
        read += n;
        if (read > byRatio) {
          throw new ExceededException("expands more than " + maxRatio + " times its compressed size of "
              + Sizes.format(compressedBytes) + ", as decompression bombs do (" + source + ")");
        }
        if (read > byBytes) {
          throw new ExceededException("unpacks to more than " + Sizes.format(maxBytes) + " (" + source + ")");
        }
      }
    };
  }
}
