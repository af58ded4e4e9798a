package io.rackroll.trust;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The text form of what a release key signs: a header line, then {@code name: value} lines in a
 * fixed order, the last being {@code signature}. Parsed strictly (every field once, in order,
 * nothing else, bounded in size); what is signed is rebuilt from the parsed fields, never taken
 * from the input, so two texts that parse alike verify alike.
 */
final class SignedText {
  static final int MAX_BYTES = 4096;
  private static final String SIGNATURE = "signature";

  private SignedText() {}

  /** The fields of {@code text}, by name, signature last; throws IllegalArgumentException naming what is wrong. */
  static Map<String, String> parse(String text, String what, String header, List<String> fields) {
    if (text.length() > MAX_BYTES) {
      throw new IllegalArgumentException(what + " is longer than " + MAX_BYTES + " bytes");
    }
    List<String> lines = text.strip().lines().toList();
    if (lines.isEmpty() || !lines.get(0).strip().equals(header)) {
      throw new IllegalArgumentException(what + " does not start with \"" + header + "\"");
    }
    if (lines.size() != fields.size() + 2) {
      throw new IllegalArgumentException(what + " has " + (lines.size() - 1) + " fields (expected: "
          + String.join(", ", fields) + ", " + SIGNATURE + ")");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i <= fields.size(); i++) {
      String name = i < fields.size() ? fields.get(i) : SIGNATURE;
      String line = lines.get(i + 1);
      if (!line.startsWith(name + ": ")) {
        throw new IllegalArgumentException(what + " line " + (i + 2) + ": expected \"" + name + ": ...\"");
      }
      out.put(name, line.substring(name.length() + 2).strip());
    }
    return out;
  }

  /** The bytes signed: the header and every field but the signature, one per line. */
  static byte[] signed(String header, Map<String, String> fields) {
    StringBuilder b = new StringBuilder(header).append('\n');
    fields.forEach((name, value) -> {
      if (!name.equals(SIGNATURE)) {
        b.append(name).append(": ").append(value).append('\n');
      }
    });
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The full text: what is signed, then the signature line. */
  static String format(String header, Map<String, String> fields, byte[] signature) {
    return new String(signed(header, fields), StandardCharsets.UTF_8) + SIGNATURE + ": "
        + Base64.getEncoder().encodeToString(signature) + "\n";
  }

  static byte[] signature(Map<String, String> fields, String what) {
    try {
      return Base64.getDecoder().decode(fields.get(SIGNATURE));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + ": the signature is not base64");
    }
  }
}
