package io.rackroll.controller.cli;

/**
 * A command line that cannot mean anything (an option missing that only some forms of a command
 * need, options that exclude each other), found by the command itself rather than by picocli:
 * exit status 2, like picocli's own usage errors.
 */
final class UsageError extends IllegalArgumentException {
  UsageError(String message) {
    super(message);
  }
}
