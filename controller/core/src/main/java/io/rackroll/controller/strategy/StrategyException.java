package io.rackroll.controller.strategy;

/** A deployment option that cannot be used; the message names the option and what it accepts. */
public final class StrategyException extends IllegalArgumentException {
  public StrategyException(String message) {
    super(message);
  }
}
