package io.rackroll.agent.install;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.rackroll.release.UnpackLimits;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;

/**
 * Raw tar bytes (gzipped here, so the fuzzer works on the tar format itself) unpacked into a
 * release directory: either unpacked or refused with an IOException, and never anything written
 * outside the release. The corpus runs in every build; see docs/security.md.
 */
class UnpackerFuzzTest {
  @FuzzTest
  void unpack(FuzzedDataProvider data) throws IOException {
    Path sandbox = Files.createTempDirectory("unpack-fuzz");
    try {
      Path archive = sandbox.resolve("a.tar.gz");
      try (OutputStream out = new GzipCompressorOutputStream(Files.newOutputStream(archive))) {
        out.write(data.consumeRemainingAsBytes());
      }
      try {
        Unpacker.unpack(archive, sandbox.resolve("apps/web/releases/1"), new UnpackLimits(1 << 20, 200, 0, "fuzz"));
      } catch (IOException refused) {
        // the documented refusal
      }
      try (Stream<Path> all = Files.list(sandbox)) {
        if (all.anyMatch(p -> !p.getFileName().toString().equals("a.tar.gz") && !p.getFileName().toString().equals("apps"))) {
          throw new AssertionError("something was written beside the release");
        }
      }
    } finally {
      try (Stream<Path> walk = Files.walk(sandbox)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
