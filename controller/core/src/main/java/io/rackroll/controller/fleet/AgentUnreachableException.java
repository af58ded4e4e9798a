package io.rackroll.controller.fleet;

/** A command could not reach its agent, or the agent left before answering. */
public final class AgentUnreachableException extends RuntimeException {
  public AgentUnreachableException(String message) {
    super(message);
  }
}
