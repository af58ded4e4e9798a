package io.rackroll.controller.select;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.rackroll.controller.env.EnvironmentsFile;
import java.time.Instant;

/**
 * What operators type and apply, fuzzed: a selector and an environments file either parse or are
 * refused with their documented one-line IllegalArgumentException; anything else fails. The corpus
 * (src/test/resources/.../OperatorInputFuzzTestInputs) runs in every build; see docs/security.md.
 */
class OperatorInputFuzzTest {
  @FuzzTest
  void selector(FuzzedDataProvider data) {
    String text = data.consumeRemainingAsString();
    try {
      Selector.parse(text);
    } catch (IllegalArgumentException refused) {
      oneLine(refused);
    }
  }

  @FuzzTest
  void environmentsFile(FuzzedDataProvider data) {
    try {
      EnvironmentsFile.parse(data.consumeRemainingAsString(), "environments.yaml", 1, "fuzz", Instant.EPOCH);
    } catch (IllegalArgumentException refused) {
      oneLine(refused);
    }
  }

  private static void oneLine(IllegalArgumentException refused) {
    if (refused.getMessage() == null || refused.getMessage().contains("\n")) {
      throw new AssertionError("a refusal that is not one line: " + refused.getMessage(), refused);
    }
  }
}
