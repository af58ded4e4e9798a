package io.rackroll.release;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte sizes as people write them: {@code 512MiB}, {@code 8GiB}, {@code 2GB}, {@code 1048576}. */
public final class Sizes {
  private static final Pattern FORMAT = Pattern.compile("(\\d{1,15})(?:\\.(\\d{1,3}))?\\s*([KMGT]i?B|B)?");

  private Sizes() {}

  /** Parses a size; returns -1 when the text is not one (the caller words the error). */
  public static long parse(String text) {
    Matcher m = FORMAT.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      return -1;
    }
    long unit = switch (m.group(3) == null ? "B" : m.group(3)) {
      case "KiB" -> 1L << 10;
      case "MiB" -> 1L << 20;
      case "GiB" -> 1L << 30;
      case "TiB" -> 1L << 40;
      case "KB" -> 1_000L;
      case "MB" -> 1_000_000L;
      case "GB" -> 1_000_000_000L;
      case "TB" -> 1_000_000_000_000L;
      default -> 1L;
    };
    double value = Double.parseDouble(m.group(1) + (m.group(2) == null ? "" : "." + m.group(2)));
    return Math.round(value * unit);
  }

  /** {@code 2.0 GiB}: one decimal, binary units, as refusals quote sizes. */
  public static String format(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }
}
