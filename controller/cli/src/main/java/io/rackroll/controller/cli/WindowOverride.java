package io.rackroll.controller.cli;

import picocli.CommandLine.Option;

/** {@code --override-window --reason TEXT}: go ahead outside change windows, saying why (audited). */
final class WindowOverride {
  @Option(names = "--override-window", description = "Go ahead outside the change windows of the environments it"
      + " touches, to its end; needs --reason (audited).")
  boolean override;

  @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the audit log.")
  String reason = "";

  /** The reason to send when overriding, else empty; an override without a reason is refused here. */
  String reason() {
    if (!override) {
      return "";
    }
    if (reason.isBlank()) {
      throw new IllegalArgumentException("--override-window needs --reason TEXT: say why, for the audit log");
    }
    return reason;
  }
}
