package io.rackroll.release;

import java.util.List;

/** A manifest that cannot be used. The message lists every problem, each with its line and key. */
public final class ManifestException extends Exception {
  private final List<String> problems;

  ManifestException(List<String> problems) {
    super(String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
