package io.rackroll.controller.store;

/** Thrown when the database fails; the message names the operation. */
public final class StoreException extends RuntimeException {
  public StoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
