package io.rackroll.controller.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Files and standard input the CLI reads for the operator, read the same careful way: at most a
 * limit (so {@code -f /dev/zero} is refused, not an OutOfMemoryError), as UTF-8 text, and every
 * refusal one line naming the file and what was expected.
 */
final class InputFile {
  /** Environments and deployment files: far larger than any real one. */
  static final int TEXT_LIMIT = 1 << 20;

  private InputFile() {}

  /** The text of {@code file}, described as {@code what} (e.g. "environments file") in refusals. */
  static String text(Path file, String what, int limit) {
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(what + " " + file + " is a directory (expected: a file)");
    }
    try (InputStream in = Files.newInputStream(file)) {
      return text(in, what + " " + file, limit);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(what + " " + file + " does not exist");
    } catch (AccessDeniedException e) {
      throw new IllegalArgumentException(what + " " + file + " cannot be read by this user (permission denied)");
    } catch (IOException e) {
      throw new IllegalArgumentException(what + " " + file + " cannot be read: " + e.getMessage());
    }
  }

  /** At most {@code limit} bytes of {@code in} as UTF-8 text; {@code what} names it in refusals. */
  static String text(InputStream in, String what, int limit) throws IOException {
    byte[] bytes = in.readNBytes(limit + 1);
    if (bytes.length > limit) {
      throw new IllegalArgumentException(what + " is larger than " + io.rackroll.release.Sizes.format(limit)
          + " (expected: a text file; is it the right one?)");
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(what + " is not UTF-8 text (expected: a text file, not a binary one)");
    }
  }

  /** Checks that {@code file} is a regular file to send, such as an artifact; {@code expected} says what it should be. */
  static void regular(Path file, String what, String expected) {
    if (Files.isDirectory(file)) {
      throw new IllegalArgumentException(what + " " + file + " is a directory (expected: " + expected + ")");
    }
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(what + " " + file + " does not exist (expected: " + expected + ")");
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(what + " " + file + " is not a regular file (expected: " + expected + ")");
    }
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(what + " " + file + " cannot be read by this user (permission denied)");
    }
  }
}
