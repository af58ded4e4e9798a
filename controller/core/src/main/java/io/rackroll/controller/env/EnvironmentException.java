package io.rackroll.controller.env;

import io.rackroll.wire.Names;

/**
 * An environments file, or a request about environments, that cannot be accepted; the message is
 * for the operator, on one line even when it quotes a value with a line break in it.
 */
final class EnvironmentException extends IllegalArgumentException {
  public EnvironmentException(String message) {
    super(Names.printable(message));
  }
}
