package io.rackroll.release;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.rackroll.wire.Durations;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The parsers of what operators and release authors write, fuzzed: each either accepts its input
 * or refuses it with its documented exception (one line for the operator); anything else, a
 * NullPointerException or a StackOverflowError say, fails the test. Under {@code ./mvnw verify}
 * each runs its corpus (src/test/resources/.../ParsersFuzzTestInputs) as regression tests; to
 * fuzz, see bench/README.md or docs/security.md ({@code JAZZER_FUZZ=1}).
 */
class ParsersFuzzTest {
  @FuzzTest
  void manifest(FuzzedDataProvider data) {
    try {
      Manifest m = Manifest.parse(data.consumeRemainingAsString());
      if (m.name() == null || m.version() == null) {
        throw new AssertionError("a parsed manifest without name or version");
      }
    } catch (ManifestException refused) {
      for (String problem : refused.problems()) {
        if (problem.contains("\n")) {
          throw new AssertionError("a problem of more than one line: " + problem);
        }
      }
    }
  }

  @FuzzTest
  void durationsAndSizes(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    try {
      if (Durations.parse("x", text).isNegative()) {
        throw new AssertionError("a negative duration from " + text);
      }
    } catch (IllegalArgumentException refused) {
      // the documented refusal
    }
    long size = Sizes.parse(text);
    if (size < -1) {
      throw new AssertionError("size " + size + " from " + text);
    }
  }

  @FuzzTest
  void artifact(FuzzedDataProvider data) throws IOException {
    Path file = Files.createTempFile("fuzz", ".tar.gz");
    try {
      Files.write(file, data.consumeRemainingAsBytes());
      Artifact.inspect(file, new UnpackLimits(1 << 20, 1000, 100, "fuzz"));
    } catch (IOException | ManifestException refused) {
      // the documented refusals: not a readable .tar.gz, past the limits, or a bad manifest
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
