package io.rackroll.controller.env;

/** An environments file, or a request about environments, that cannot be accepted; the message is for the operator. */
public final class EnvironmentException extends IllegalArgumentException {
  public EnvironmentException(String message) {
    super(message);
  }
}
