package io.rackroll.wire;

import java.security.SecureRandom;

/**
 * Random identifiers people read and type: lowercase letters and digits without the look-alikes
 * (no 0/o, 1/l), e.g. {@code ag-7hvx2xq98hea}, {@code d-qbucu3zccw}.
 */
public final class Ids {
  private static final char[] ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  private Ids() {}

  /** {@code prefix} followed by {@code length} random characters (5 bits each). */
  public static String random(String prefix, int length) {
    StringBuilder b = new StringBuilder(prefix);
    for (int i = 0; i < length; i++) {
      b.append(ALPHABET[RANDOM.nextInt(ALPHABET.length)]);
    }
    return b.toString();
  }
}
